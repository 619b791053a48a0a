package upstream

import (
	"bytes"
	"fmt"

	"hashproxy/internal/proto"
)

// errForeignValue is a retrieval reply holding a value for a key that its
// request did not ask for.
var errForeignValue = fmt.Errorf("%w: value for a key not asked for", proto.ErrMalformedReply)

// valuesAnswer reports whether every VALUE block of a retrieval's reply is
// for one of the keys the request asked for, in the request's order (a key
// asked twice may be answered twice). memcached answers that way; a reply
// that does not means the connection has lost track of which reply belongs
// to which request, and passing it on would hand a client another key's
// value.
func valuesAnswer(cmd proto.Command, req, reply []byte) bool {
	line, _, _ := bytes.Cut(req, []byte("\r\n"))
	_, keys, _ := bytes.Cut(line, []byte{' '}) // drop the command
	if cmd == proto.CmdGat || cmd == proto.CmdGats {
		_, keys, _ = bytes.Cut(keys, []byte{' '}) // drop the exptime
	}
	for {
		key, _, rest, ok := proto.NextValue(reply)
		if !ok {
			return true // END or an error line: nothing more to match
		}
		reply = rest
		for {
			var k []byte
			k, keys, _ = bytes.Cut(keys, []byte{' '})
			if len(k) == 0 && len(keys) == 0 {
				return false // asked keys used up: this key was not asked for
			}
			if bytes.Equal(k, key) {
				break
			}
		}
	}
}
