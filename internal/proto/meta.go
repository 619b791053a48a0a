package proto

import (
	"bytes"
	"math"
)

// Meta commands are validated as memcached 1.6's proto_text.c does
// (process_mget_command and its siblings, _meta_flag_preparse), check by
// check, so that every request memcached refuses from its line alone gets
// memcached's reply from the proxy, and every request it accepts reaches
// the key's node with its flags unchanged. One check stays with the node,
// because memcached makes it after it has acted on the item: an opaque (O)
// token over 31 bytes in mg, md and ma.
//
// Unlike a classic key, a meta key may hold control characters, as in
// memcached; with the b flag it is base64 and the item's key is the
// decoded bytes (see base64.go), which Keys[0] holds for routing.

const (
	// maxMetaTokens is the most tokens, verb included, memcached takes in
	// a meta command (mg, ms, md, ma); more are "options flags too long".
	maxMetaTokens = 19
	// maxMetaLine is the longest meta command line, with its "\r\n", the
	// proxy forwards (see MaxNodeLine).
	maxMetaLine = MaxNodeLine
	// maxOpaqueToken is the longest O token, the O included.
	maxOpaqueToken = 32
)

// parseMeta validates a meta command's line, already split into r.tok,
// and sets req's Quiet and Base64Key. need is the length of an ms data
// block with its "\r\n": read into req.Data when err is nil, skipped
// otherwise.
func (r *Reader) parseMeta(line []byte, req *Request) (need int, err *Error) {
	if req.Cmd == CmdMn {
		return 0, nil // memcached answers MN whatever follows
	}
	if len(line)+2 > maxMetaLine {
		return 0, errMetaLineTooLong
	}
	t := &r.tok
	if i := bytes.IndexByte(line, 0); i >= 0 {
		// memcached reads the line as a C string: it ends at a NUL.
		line = line[:i]
		t.split(line, r.tokenLimit())
	}
	if t.n < 2 {
		if req.Cmd == CmdMe {
			return 0, errMetaBadFormat
		}
		return 0, errUnknownCommand.loud
	}
	if len(t.at(line, 1)) > MaxKeyLength {
		return 0, errMetaBadFormat
	}
	switch req.Cmd {
	case CmdMe:
		return 0, r.parseMe(line, req)
	case CmdMs:
		return r.parseMs(line, req)
	}
	if t.n > maxMetaTokens {
		if req.Cmd == CmdMg {
			return 0, errMgFlagsTooLong
		}
		return 0, errMetaFlagsTooLong
	}
	f, err := r.metaFlags(line, 2, req)
	if err == nil && req.Cmd == CmdMa && !validMaMode(f.mode) {
		err = errMaBadMode
	}
	req.metaMode = f.mode
	return 0, err
}

// parseMe validates "me <key> [b]": memcached ignores any other token.
func (r *Reader) parseMe(line []byte, req *Request) *Error {
	t := &r.tok
	if t.n < 3 || string(t.at(line, 2)) != "b" {
		return nil
	}
	req.Base64Key = true
	if r.decodeKey(t.at(line, 1)) == 0 {
		return errMetaBadFormat
	}
	return nil
}

// parseMs validates "ms <key> <datalen> <flags>*". Refusals before the
// flags leave the data block to be read as the next command, as memcached
// does; later ones skip it.
func (r *Reader) parseMs(line []byte, req *Request) (int, *Error) {
	t := &r.tok
	if t.n == 2 {
		return 0, errMetaBadFormat
	}
	if t.n > maxMetaTokens {
		return 0, errMetaFlagsTooLong
	}
	size, ok := cStrtol(t.at(line, 2))
	if !ok || size < 0 || size > math.MaxInt32-2 {
		return 0, errMetaBadFormat
	}
	need := int(size) + 2
	f, err := r.metaFlags(line, 3, req)
	if err != nil {
		return need, err
	}
	if f.longOpaque {
		err = errMetaLongOpaque
	}
	if !validMsMode(f.mode) {
		err = errMsBadMode
	}
	if err == nil && int(size) > r.lim.MaxItemSize {
		err = errTooLarge.loud
	}
	req.metaMode = f.mode
	return need, err
}

// metaFlagSet is what the proxy needs of a meta command's flags.
type metaFlagSet struct {
	mode       byte // the M token's mode, 0 without one
	longOpaque bool // an O token over maxOpaqueToken bytes
}

// metaFlags checks the flag tokens from index first on as memcached's
// _meta_flag_preparse does, setting req.Quiet and req.Base64Key (and
// decoding the key) on the way. A repeated or unknown flag stops the check
// at once; a malformed one is remembered, and the last one's message is
// memcached's reply. md and ma answer every flag error alike.
func (r *Reader) metaFlags(line []byte, first int, req *Request) (f metaFlagSet, err *Error) {
	t := &r.tok
	var seen [128]bool
	for i := first; i < t.n; i++ {
		tok := t.at(line, i)
		o := tok[0]
		if o >= 127 || seen[o] {
			return f, metaFlagError(req.Cmd, errMetaDuplicateFlag)
		}
		seen[o] = true
		arg := tok[1:]
		switch o {
		case 'b':
			req.Base64Key = true
			if r.decodeKey(t.at(line, 1)) == 0 {
				err = errMetaBadKey64
			}
		case 'N', 'T', 'R':
			if _, ok := cStrtol(arg); !ok {
				err = errMetaBadToken
			}
		case 'F':
			if _, ok := cStrtoul(arg); !ok && err == nil {
				// memcached marks the error without a message of its own:
				// the previous one, or its default, is the reply.
				err = errMetaBadFormat
			}
		case 'C':
			req.MetaCAS = true
			if _, ok := cStrtoull(arg); !ok {
				err = errMetaBadToken
			}
		case 'M':
			if len(tok) != 2 {
				err = errMetaModeLength
			} else {
				f.mode = tok[1]
			}
		case 'J':
			if _, ok := cStrtoull(arg); !ok {
				err = errMetaBadInitial
			}
		case 'D':
			if _, ok := cStrtoull(arg); !ok {
				err = errMetaBadDelta
			}
		case 'O':
			f.longOpaque = f.longOpaque || len(tok) > maxOpaqueToken
		case 'q':
			req.Quiet = true
		case 'P', 'L', 'l', 'k', 's', 't', 'c', 'f', 'v', 'h', 'u', 'I':
		default:
			return f, metaFlagError(req.Cmd, errMetaInvalidFlag)
		}
	}
	if err != nil {
		return f, metaFlagError(req.Cmd, err)
	}
	return f, nil
}

// metaFlagError is the reply memcached gives cmd for the flag error err:
// md and ma have one message for all of them.
func metaFlagError(cmd Command, err *Error) *Error {
	if cmd == CmdMd || cmd == CmdMa {
		return errMetaFlagOrDup
	}
	return err
}

func validMsMode(m byte) bool {
	return m == 0 || m == 'E' || m == 'A' || m == 'P' || m == 'R' || m == 'S'
}

func validMaMode(m byte) bool {
	return m == 0 || m == 'I' || m == '+' || m == 'D' || m == '-'
}

// decodeKey decodes a base64 key token into r.key64, returning the key's
// length, 0 when memcached would refuse it.
func (r *Reader) decodeKey(tok []byte) int {
	r.key64n = decodeBase64Key(r.key64[:], tok)
	return r.key64n
}

// fillMeta sets req's Keys and Args from a meta command's line: Args are
// the tokens after the verb as sent, Keys[0] the item's key.
func (t *tokens) fillMeta(line []byte, req *Request, key64 []byte) {
	if req.Cmd == CmdMn {
		return
	}
	end := t.n
	if req.Cmd == CmdMe {
		end = 2
		if req.Base64Key {
			end = 3
		}
	}
	for i := 1; i < end; i++ {
		req.Args = append(req.Args, t.at(line, i))
	}
	if req.Base64Key {
		req.Keys = append(req.Keys, key64)
	} else {
		req.Keys = append(req.Keys, req.Args[0])
	}
}

// metaFlagStart is the index in Args of a meta command's first flag.
func (r *Request) metaFlagStart() int {
	if r.Cmd == CmdMs {
		return 2
	}
	return 1
}

// appendMeta appends a meta request as sent to its node: the client's
// tokens, single-spaced, with the q flag removed unless the node must see
// it (ma, see Quiet), then the data block of an ms, then "mn" after a
// quiet ma.
func (r *Request) appendMeta(dst []byte) []byte {
	dst = append(dst, r.Cmd.String()...)
	strip := r.Quiet && r.Cmd != CmdMa
	for i, a := range r.Args {
		if strip && i >= r.metaFlagStart() && a[0] == 'q' {
			continue
		}
		dst = append(dst, ' ')
		dst = append(dst, a...)
	}
	dst = append(dst, "\r\n"...)
	dst = append(dst, r.Data...)
	if r.Quiet && r.Cmd == CmdMa {
		dst = append(dst, "mn\r\n"...)
	}
	return dst
}
