package upstream

// Kind classifies why a request to a node failed. Its string form is a
// fixed, small set, usable as a metric label.
type Kind uint8

// The kinds of upstream failure.
const (
	KindTimeout   Kind = iota // no reply within the pool's timeout
	KindConnect               // the node could not be dialled
	KindProtocol              // the node's reply was not memcached's protocol
	KindClosed                // the connection broke, or the server was closed
	KindDown                  // the node is marked down; failed fast
	KindQueueFull             // too many requests already queued for the node
	KindTLS                   // the TLS handshake with the node failed
	numKinds
)

var kindNames = [numKinds]string{"timeout", "connect", "protocol", "closed", "down", "queue_full", "tls"}

// String returns the kind's label value.
func (k Kind) String() string { return kindNames[k] }

// Kinds lists every Kind, in order.
func Kinds() []Kind {
	ks := make([]Kind, numKinds)
	for i := range ks {
		ks[i] = Kind(i)
	}
	return ks
}

// Error is a failed request. Errors are built once per server and kind, so
// failing a request allocates nothing.
type Error struct {
	Kind Kind
	Addr string
	// Reply is the memcached-style line the client receives:
	// "SERVER_ERROR <reason>\r\n".
	Reply []byte
}

func (e *Error) Error() string {
	return "upstream: " + e.Addr + ": " + reasons[e.Kind]
}

var reasons = [numKinds]string{
	"timed out",
	"connection refused or unreachable",
	"bad reply from server",
	"connection closed",
	"server is down",
	"too many requests queued",
	"TLS handshake failed",
}

// newErrors builds the Error of every kind for one server address.
func newErrors(addr string) [numKinds]*Error {
	var errs [numKinds]*Error
	for k := range errs {
		reply := "SERVER_ERROR " + addr + " " + reasons[k] + "\r\n"
		errs[k] = &Error{Kind: Kind(k), Addr: addr, Reply: []byte(reply)}
	}
	return errs
}
