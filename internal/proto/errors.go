package proto

import "errors"

// ErrMalformedReply reports an upstream reply that does not follow the
// protocol for the command it answers; the connection it came on is out of
// step and must be closed.
var ErrMalformedReply = errors.New("proto: malformed reply")

// Error is a request the Reader refused. The caller writes Reply (empty, or
// a complete line ending in "\r\n") to the client, then closes the
// connection if Close is set and otherwise goes on reading requests.
//
// Reply is what memcached answers to the same bytes: empty when the request
// carried "noreply", which silences errors as well, and "END\r\n" for a gat
// or gats naming no key. Errors are shared values: do not modify them.
type Error struct {
	// Reply is written to the client as is.
	Reply []byte
	// Close asks the caller to close the connection after writing Reply.
	Close bool
	// Invalidate asks the caller to delete the request's key (Keys[0],
	// set when the key is valid) on its node: memcached drops the old value
	// of an item it refuses as too large, so a later get cannot see it
	// stale.
	Invalidate bool
	// reason is the text of Error().
	reason string
}

// Error returns a description of the refusal for logs.
func (e *Error) Error() string { return "proto: " + e.reason }

// refusal is an Error with its noreply twin, whose Reply is empty.
type refusal struct {
	loud, quiet *Error
}

func newRefusal(reply, reason string) refusal {
	return refusal{
		loud:  &Error{Reply: []byte(reply), reason: reason},
		quiet: &Error{reason: reason + " (noreply)"},
	}
}

// invalidating marks both forms of f as asking for the key's deletion.
func invalidating(f refusal) refusal {
	f.loud.Invalidate, f.quiet.Invalidate = true, true
	return f
}

// get returns the Error to give a request with or without noreply.
func (f refusal) get(noreply bool) *Error {
	if noreply {
		return f.quiet
	}
	return f.loud
}

// Refusals, each answered with memcached's reply to the same mistake.
var (
	errUnknownCommand = newRefusal("ERROR\r\n", "unknown command or wrong number of arguments")
	errBadFormat      = newRefusal("CLIENT_ERROR bad command line format\r\n", "bad command line format")
	errBadKey         = newRefusal("CLIENT_ERROR bad command line format\r\n", "key too long or with control characters")
	errBadExptime     = newRefusal("CLIENT_ERROR invalid exptime argument\r\n", "invalid exptime argument")
	errBadDelta       = newRefusal("CLIENT_ERROR invalid numeric delta argument\r\n", "invalid numeric delta argument")
	errDeleteUsage    = newRefusal("CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n", "bad delete arguments")
	errBadDataChunk   = newRefusal("CLIENT_ERROR bad data chunk\r\n", "data block does not end in \\r\\n at its declared length")
	errTooLarge       = invalidating(newRefusal("SERVER_ERROR object too large for cache\r\n", "data block over the max item size"))
	errTooManyKeys    = newRefusal("CLIENT_ERROR too many keys\r\n", "too many keys")
)

// Refusals that close the connection.
var (
	errLineTooLong = &Error{Reply: []byte("CLIENT_ERROR line too long\r\n"), Close: true, reason: "command line too long"}
	errBinary      = &Error{Reply: []byte("CLIENT_ERROR binary protocol not supported\r\n"), Close: true, reason: "binary protocol request"}
	// errHTTP mirrors memcached, which hangs up on HTTP requests silently.
	errHTTP = &Error{Close: true, reason: "HTTP request"}
	// errNoKeys answers a gat or gats without keys as memcached does.
	errNoKeys = &Error{Reply: []byte("END\r\n"), reason: "retrieval without keys"}
)
