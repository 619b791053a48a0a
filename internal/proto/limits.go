package proto

// Default limits, as memcached's where it has one.
const (
	DefaultMaxLineLength = 256 << 10 // 262144 bytes
	DefaultMaxItemSize   = 1 << 20   // 1 MiB, memcached's -I default
	DefaultMaxKeys       = 10000
)

// MaxKeyLength is the longest key memcached accepts, in bytes.
const MaxKeyLength = 250

// MaxNodeLine is the longest command line, with its "\r\n", that the
// proxy sends a node, but for get and gets lines: memcached closes a
// connection on which it holds more than 2048 bytes of a line without its
// end, unless the line starts with "get " or "gets " (proto_text.c's
// try_read_command_ascii), so a longer line split across two of the
// node's reads would close a node connection other clients share. A
// retrieval that touches (gat, gats) is sent in several lines under it
// (see KeyRoom); a longer meta line is refused.
const MaxNodeLine = 2048

// Limits bound what a client may send. A zero or negative field means its
// default.
type Limits struct {
	// MaxLineLength is the longest command line accepted, in bytes, not
	// counting its line ending. A longer line is answered with an error and
	// the connection is closed.
	MaxLineLength int
	// MaxItemSize is the largest data block a storage command may carry.
	// A larger one is answered "SERVER_ERROR object too large for cache"
	// and discarded without being buffered.
	MaxItemSize int
	// MaxKeys is the most keys one retrieval may name.
	MaxKeys int
}

// DefaultLimits returns the limits used for zero fields.
func DefaultLimits() Limits {
	return Limits{
		MaxLineLength: DefaultMaxLineLength,
		MaxItemSize:   DefaultMaxItemSize,
		MaxKeys:       DefaultMaxKeys,
	}
}

// withDefaults returns l with zero and negative fields set to their defaults.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxLineLength <= 0 {
		l.MaxLineLength = d.MaxLineLength
	}
	if l.MaxItemSize <= 0 {
		l.MaxItemSize = d.MaxItemSize
	}
	if l.MaxKeys <= 0 {
		l.MaxKeys = d.MaxKeys
	}
	return l
}
