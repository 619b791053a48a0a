package loadgen

import (
	"bufio"
	"errors"
	"fmt"
)

// maxDeclaredSize is the largest data block a VALUE line may declare before
// the stream is taken to be garbage (memcached's item size limit is 1 GiB).
const maxDeclaredSize = 1 << 30

// errOutOfStep is wrapped by reply errors after which the stream can no
// longer be matched to requests; the connection must be closed.
var errOutOfStep = errors.New("loadgen: reply stream out of step")

// Reply problems: constant descriptions of a complete but wrong reply,
// counted as an error while the stream stays in step.
const (
	problemNone       = ""
	problemErrorReply = "error reply"
	problemValue      = "wrong value"
	problemFlags      = "wrong flags"
	problemKey        = "value for a key not requested, or out of order"
)

// readLine returns the next reply line without its "\r\n". The slice is
// valid until the next read from r.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("%w: reply line longer than %d bytes", errOutOfStep, r.Size())
		}
		return nil, fmt.Errorf("loadgen: read reply: %w", err)
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("%w: reply line %q does not end in \\r\\n", errOutOfStep, line)
	}
	return line[:len(line)-2], nil
}

// isErrorReply reports whether line is one of memcached's error replies,
// which stand in place of a command's whole reply.
func isErrorReply(line []byte) bool {
	s := string(line)
	return s == "ERROR" || hasPrefix(s, "CLIENT_ERROR ") || hasPrefix(s, "SERVER_ERROR ")
}

func hasPrefix(s, prefix string) bool {
	return len(s) >= len(prefix) && s[:len(prefix)] == prefix
}

// parseValueLine parses "VALUE <key> <flags> <bytes> [<cas>]" (without the
// line ending). ok is false when line is not such a line.
func parseValueLine(line []byte) (key []byte, flags uint32, size int, ok bool) {
	const prefix = "VALUE "
	if !hasPrefix(string(line), prefix) {
		return nil, 0, 0, false
	}
	rest := line[len(prefix):]
	key, rest = nextToken(rest)
	f, rest := nextToken(rest)
	n, rest := nextToken(rest)
	cas, rest := nextToken(rest)
	if len(key) == 0 || len(rest) != 0 {
		return nil, 0, 0, false
	}
	fv, ok := parseDecimal(f, 1<<32-1)
	if !ok {
		return nil, 0, 0, false
	}
	nv, ok := parseDecimal(n, maxDeclaredSize)
	if !ok {
		return nil, 0, 0, false
	}
	if cas != nil {
		if _, ok := parseDecimal(cas, 1<<64-1); !ok {
			return nil, 0, 0, false
		}
	}
	return key, uint32(fv), int(nv), true
}

// nextToken splits b at its first space; a token must be followed by a
// single space or the end. It returns nil, nil when b is empty.
func nextToken(b []byte) (tok, rest []byte) {
	for i, c := range b {
		if c == ' ' {
			if i+1 == len(b) {
				return b[:i], b[i:] // a trailing space is left for the caller to reject
			}
			return b[:i], b[i+1:]
		}
	}
	if len(b) == 0 {
		return nil, nil
	}
	return b, b[len(b):]
}

// parseDecimal parses 1 to 20 ASCII digits into a value no larger than
// limit.
func parseDecimal(b []byte, limit uint64) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (limit-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// readSetReply reads the reply to a set. A non-empty problem means the
// reply was complete but wrong; an error means the stream is unusable.
func readSetReply(r *bufio.Reader) (problem string, err error) {
	line, err := readLine(r)
	if err != nil {
		return problemNone, err
	}
	switch {
	case string(line) == "STORED":
		return problemNone, nil
	case isErrorReply(line):
		return problemErrorReply, nil
	}
	return problemNone, fmt.Errorf("%w: unexpected reply to set: %q", errOutOfStep, line)
}

// readGetReply reads the reply to a get of the keys numbered want, in that
// order, and returns how many were hits with the right value. Values must
// come in request order; a missing key is a miss. A non-empty problem
// means the reply was complete but wrong (its hits are counted but the
// request is an error); an error means the stream is unusable.
func readGetReply(r *bufio.Reader, ks *keyspace, want []uint32) (hits int, problem string, err error) {
	next := 0 // want[next:] are the keys a VALUE may still answer
	for {
		line, err := readLine(r)
		if err != nil {
			return hits, problem, err
		}
		if string(line) == "END" {
			return hits, problem, nil
		}
		key, flags, size, ok := parseValueLine(line)
		if !ok {
			if next == 0 && problem == problemNone && isErrorReply(line) {
				return 0, problemErrorReply, nil
			}
			return hits, problem, fmt.Errorf("%w: unexpected reply to get: %q", errOutOfStep, line)
		}
		i, known := ks.index(key)
		match := -1
		for j := next; known && j < len(want); j++ {
			if want[j] == i {
				match = j
				break
			}
		}
		if match < 0 {
			problem = problemKey
		} else {
			next = match + 1
		}
		if size != ks.size {
			if match >= 0 {
				problem = problemValue
			}
			if err := skipData(r, size); err != nil {
				return hits, problem, err
			}
			continue
		}
		data, err := r.Peek(size + 2)
		if err != nil {
			return hits, problem, fmt.Errorf("loadgen: read value: %w", err)
		}
		if data[size] != '\r' || data[size+1] != '\n' {
			return hits, problem, fmt.Errorf("%w: value of %d bytes not followed by \\r\\n", errOutOfStep, size)
		}
		if match >= 0 {
			switch {
			case flags != ks.flags(i):
				problem = problemFlags
			case !ks.valid(i, data[:size]):
				problem = problemValue
			default:
				hits++
			}
		}
		if _, err := r.Discard(size + 2); err != nil {
			return hits, problem, fmt.Errorf("loadgen: read value: %w", err)
		}
	}
}

// skipData reads past a data block of size bytes and its "\r\n".
func skipData(r *bufio.Reader, size int) error {
	if _, err := r.Discard(size); err != nil {
		return fmt.Errorf("loadgen: read value: %w", err)
	}
	end, err := r.Peek(2)
	if err != nil {
		return fmt.Errorf("loadgen: read value: %w", err)
	}
	if end[0] != '\r' || end[1] != '\n' {
		return fmt.Errorf("%w: value of %d bytes not followed by \\r\\n", errOutOfStep, size)
	}
	_, err = r.Discard(2)
	return err
}
