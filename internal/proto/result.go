package proto

// Status says which reply a node sent: the line that ended it.
type Status uint8

// The statuses of classic replies. The zero Status is no reply read.
const (
	StatusEnd         Status = iota + 1 // "END": a retrieval's (after its values) or stats' whole reply
	StatusStored                        // "STORED"
	StatusNotStored                     // "NOT_STORED"
	StatusExists                        // "EXISTS"
	StatusNotFound                      // "NOT_FOUND"
	StatusDeleted                       // "DELETED"
	StatusTouched                       // "TOUCHED"
	StatusOK                            // "OK"
	StatusNumber                        // an incr's or decr's new value
	StatusVersion                       // "VERSION <version>"
	StatusError                         // "ERROR", or "ERROR <message>"
	StatusClientError                   // "CLIENT_ERROR <message>"
	StatusServerError                   // "SERVER_ERROR <message>"
)

// IsError reports whether s is one of memcached's error replies: the node
// did not do what was asked.
func (s Status) IsError() bool {
	return s == StatusError || s == StatusClientError || s == StatusServerError
}

// Value is one VALUE block of a retrieval's reply: where it sits in the
// reply's bytes and which of the asked keys it answers.
type Value struct {
	// Key is the index, in the keys the request asked for, of the key the
	// value is for.
	Key int
	// Start and End delimit the block, "VALUE <key> <flags> <bytes>
	// [<cas>]\r\n<data>\r\n", in the bytes ReadReply returned.
	Start, End int
}

// Result is what ReadReply learned of one reply while reading it.
type Result struct {
	// Status is the line that ended the reply.
	Status Status
	// Values lists a retrieval reply's VALUE blocks in the order read,
	// which is the order of the asked keys: each block's Key is greater
	// than the one before. A key the reply has no block for is a miss.
	// Values before an error line are kept. Empty for other commands.
	Values []Value
}
