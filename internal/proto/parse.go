package proto

import (
	"bytes"
	"math"
	"strings"
)

// Validation follows memcached 1.6's proto_text.c step by step, so that each
// mistake gets memcached's reply: first the token count ("ERROR"), then
// "noreply" (which from then on silences errors too), then the key length,
// then the numbers. hashproxy is stricter in three ways, each answered
// "CLIENT_ERROR bad command line format": keys with control characters,
// flags beyond 32 bits and expiration times beyond int32, which memcached
// would silently truncate. When such a refusal hits a storage command,
// its data block is skipped, as memcached would have read it.

const noreply = "noreply"

// parse validates line (without its line ending), already split into
// r.tok, and sets req's command and typed fields. need is the length of
// the data block (with its "\r\n") that follows the line: to be read into
// req.Data when err is nil, to be skipped otherwise.
func (r *Reader) parse(line []byte, req *Request) (need int, err *Error) {
	t := &r.tok
	if t.n == 0 {
		return 0, errUnknownCommand.loud
	}
	verb := t.at(line, 0)
	req.Cmd = lookupCommand(verb)
	switch {
	case req.Cmd == 0:
		if i := bytes.IndexByte(verb, 0); i > 0 && lookupCommand(verb[:i]).Meta() {
			// memcached's line ends at a NUL, here within the verb.
			req.Cmd = lookupCommand(verb[:i])
			return r.parseMeta(line, req)
		}
		return 0, unknown(line, verb, t)
	case req.Cmd.Meta():
		return r.parseMeta(line, req)
	case req.Cmd.Retrieval():
		return 0, r.parseRetrieval(line, req)
	case req.Cmd.Storage():
		return r.parseStorage(line, req)
	}
	switch req.Cmd {
	case CmdDelete:
		return 0, parseDelete(line, t, req)
	case CmdIncr, CmdDecr:
		return 0, parseArith(line, t, req)
	case CmdTouch:
		return 0, parseTouch(line, t, req)
	case CmdFlushAll:
		return 0, parseFlushAll(line, t, req)
	case CmdVerbosity:
		return 0, parseVerbosity(line, t, req)
	case CmdStats:
		if t.overflow() {
			return 0, errBadFormat.loud
		}
	}
	// version and quit take any arguments.
	return 0, nil
}

// unknown answers a line whose verb is not a command: memcached hangs up on
// what looks like an HTTP request, and answers ERROR to the rest.
func unknown(line, verb []byte, t *tokens) *Error {
	if len(verb) >= 2 && strings.IndexByte("gsacidtm", verb[0]) < 0 &&
		bytes.HasPrefix(line[t.last.start:t.last.end], []byte("HTTP/")) {
		return errHTTP
	}
	return errUnknownCommand.loud
}

func (r *Reader) parseRetrieval(line []byte, req *Request) *Error {
	t := &r.tok
	if t.n < 2 {
		return errUnknownCommand.loud
	}
	first := 1
	if req.Cmd.touches() {
		exp, ok, _ := parseInt32(t.at(line, 1))
		if !ok {
			return errBadExptime.loud
		}
		req.Exptime = exp
		first = 2
		if t.n == 2 {
			return errNoKeys
		}
	}
	if t.n-first > r.lim.MaxKeys {
		return errTooManyKeys.loud
	}
	for i := first; i < t.n; i++ {
		if !validKey(t.at(line, i)) {
			return errBadKey.loud
		}
	}
	return nil
}

func (r *Reader) parseStorage(line []byte, req *Request) (int, *Error) {
	t := &r.tok
	want := 5
	if req.Cmd == CmdCas {
		want = 6
	}
	if t.n != want && t.n != want+1 {
		return 0, errUnknownCommand.loud
	}
	nr := t.lastIs(line, noreply)
	req.NoReply = nr
	key := t.at(line, 1)
	if len(key) > MaxKeyLength {
		return 0, errBadKey.get(nr)
	}
	flags, flagsOK := parseUint(t.at(line, 2))
	exptime, exptimeOK, exptimeWide := parseInt32(t.at(line, 3))
	size, sizeOK := parseInt(t.at(line, 4))
	if !flagsOK || !exptimeWide || !sizeOK {
		return 0, errBadFormat.get(nr)
	}
	if req.Cmd == CmdCas {
		cas, ok := parseUint(t.at(line, 5))
		if !ok {
			return 0, errBadFormat.get(nr)
		}
		req.CAS = cas
	}
	if size < 0 || size > math.MaxInt32-2 {
		return 0, errBadFormat.get(nr)
	}
	need := int(size) + 2
	switch {
	case int(size) > r.lim.MaxItemSize:
		return need, errTooLarge.get(nr)
	case !validKey(key):
		return need, errBadKey.get(nr)
	case flags > math.MaxUint32 || !exptimeOK:
		return need, errBadFormat.get(nr)
	}
	req.Flags = uint32(flags)
	req.Exptime = exptime
	return need, nil
}

func parseDelete(line []byte, t *tokens, req *Request) *Error {
	if t.n < 2 || t.n > 4 {
		return errUnknownCommand.loud
	}
	if t.n > 2 {
		// The old "delete <key> 0" form is still accepted.
		holdZero := string(t.at(line, 2)) == "0"
		req.NoReply = t.lastIs(line, noreply)
		if !(t.n == 3 && (holdZero || req.NoReply) || t.n == 4 && holdZero && req.NoReply) {
			return errDeleteUsage.get(req.NoReply)
		}
	}
	return checkKey(t.at(line, 1), req.NoReply)
}

// keyAndArgument checks a "<command> <key> <argument> [noreply]" line
// (incr, decr, touch) up to its argument, as memcached does: the token
// count, then noreply, then the key's length. It sets req.NoReply.
func keyAndArgument(line []byte, t *tokens, req *Request) (key []byte, err *Error) {
	if t.n != 3 && t.n != 4 {
		return nil, errUnknownCommand.loud
	}
	req.NoReply = t.lastIs(line, noreply)
	key = t.at(line, 1)
	if len(key) > MaxKeyLength {
		return nil, errBadKey.get(req.NoReply)
	}
	return key, nil
}

func parseArith(line []byte, t *tokens, req *Request) *Error {
	key, err := keyAndArgument(line, t, req)
	if err != nil {
		return err
	}
	delta, ok := parseUint(t.at(line, 2))
	if !ok {
		return errBadDelta.get(req.NoReply)
	}
	req.Delta = delta
	return checkKey(key, req.NoReply)
}

func parseTouch(line []byte, t *tokens, req *Request) *Error {
	key, err := keyAndArgument(line, t, req)
	if err != nil {
		return err
	}
	exp, ok, _ := parseInt32(t.at(line, 2))
	if !ok {
		return errBadExptime.get(req.NoReply)
	}
	req.Exptime = exp
	return checkKey(key, req.NoReply)
}

func parseFlushAll(line []byte, t *tokens, req *Request) *Error {
	if t.n > 3 {
		return errUnknownCommand.loud
	}
	req.NoReply = t.lastIs(line, noreply)
	withDelay := 2
	if req.NoReply {
		withDelay = 3
	}
	if t.n >= withDelay {
		exp, ok, _ := parseInt32(t.at(line, 1))
		if !ok {
			return errBadExptime.get(req.NoReply)
		}
		req.Exptime = exp
	}
	return nil
}

func parseVerbosity(line []byte, t *tokens, req *Request) *Error {
	if t.n != 2 && t.n != 3 {
		return errUnknownCommand.loud
	}
	req.NoReply = t.lastIs(line, noreply)
	if level, ok := parseUint(t.at(line, 1)); !ok || level > math.MaxUint32 {
		return errBadFormat.get(req.NoReply)
	}
	return nil
}

// checkKey returns the refusal of a key memcached would accept or refuse,
// or nil.
func checkKey(key []byte, noreply bool) *Error {
	if !validKey(key) {
		return errBadKey.get(noreply)
	}
	return nil
}

// validKey reports whether key is at most MaxKeyLength bytes without
// control characters. Spaces cannot occur: they separate tokens.
func validKey(key []byte) bool {
	if len(key) > MaxKeyLength {
		return false
	}
	for _, c := range key {
		if c < ' ' || c == 0x7f {
			return false
		}
	}
	return true
}
