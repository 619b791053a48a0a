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

// Refusals of meta commands, each memcached's reply to the same mistake.
// Meta errors are never silenced, so each is an Error, not a refusal.
var (
	errMetaBadFormat     = metaError("CLIENT_ERROR bad command line format", "bad meta command line")
	errMetaFlagsTooLong  = metaError("CLIENT_ERROR options flags too long", "meta command of 20 tokens or more")
	errMgFlagsTooLong    = metaError("CLIENT_ERROR options flags are too long", "mg of 20 tokens or more")
	errMetaDuplicateFlag = metaError("CLIENT_ERROR duplicate flag", "meta flag given twice")
	errMetaInvalidFlag   = metaError("CLIENT_ERROR invalid flag", "unknown meta flag")
	errMetaFlagOrDup     = metaError("CLIENT_ERROR invalid or duplicate flag", "unknown, repeated or malformed meta flag")
	errMetaBadKey64      = metaError("CLIENT_ERROR error decoding key", "key given with the b flag is not base64")
	errMetaBadToken      = metaError("CLIENT_ERROR bad token in command line format", "meta flag N, T, R or C without a number")
	errMetaModeLength    = metaError("CLIENT_ERROR incorrect length for M token", "meta flag M without exactly one mode")
	errMetaBadInitial    = metaError("CLIENT_ERROR invalid numeric initial value", "meta flag J without a number")
	errMetaBadDelta      = metaError("CLIENT_ERROR invalid numeric delta value", "meta flag D without a number")
	errMetaLongOpaque    = metaError("CLIENT_ERROR opaque token too long", "meta flag O over 31 bytes")
	errMsBadMode         = metaError("CLIENT_ERROR invalid mode for ms M token", "ms mode not E, A, P, R or S")
	errMaBadMode         = metaError("CLIENT_ERROR invalid mode for ma M token", "ma mode not I, +, D or -")
	// errMetaLineTooLong closes the connection, as memcached does when it
	// holds more than 2048 bytes of a line without its end.
	errMetaLineTooLong = &Error{Reply: []byte("CLIENT_ERROR line too long\r\n"), Close: true, reason: "meta command line over 2048 bytes"}
)

func metaError(reply, reason string) *Error {
	return &Error{Reply: []byte(reply + "\r\n"), reason: reason}
}

// Refusals that close the connection.
var (
	errLineTooLong = &Error{Reply: []byte("CLIENT_ERROR line too long\r\n"), Close: true, reason: "command line too long"}
	errBinary      = &Error{Reply: []byte("CLIENT_ERROR binary protocol not supported\r\n"), Close: true, reason: "binary protocol request"}
	// errHTTP mirrors memcached, which hangs up on HTTP requests silently.
	errHTTP = &Error{Close: true, reason: "HTTP request"}
	// errNoKeys answers a gat or gats without keys as memcached does.
	errNoKeys = &Error{Reply: []byte("END\r\n"), reason: "retrieval without keys"}
)
