package proto

import (
	"bytes"
	"fmt"
)

// A meta reply is a status line "<code>[ <flag>...]\r\n", where code is two
// letters, or "VA <size>[ <flag>...]\r\n" followed by a data block of size
// bytes and "\r\n"; or one of memcached's error lines.

// The statuses of meta replies, named by their codes.
const (
	StatusVA Status = StatusServerError + 1 + iota // "VA <size> <flag>*" and a data block: a value (mg, ma)
	StatusHD                                       // "HD <flag>*": done; for mg, a hit without a value
	StatusEN                                       // "EN": a miss (mg, me)
	StatusNF                                       // "NF": not found (ms, md, ma)
	StatusNS                                       // "NS": not stored (ms, ma)
	StatusEX                                       // "EX": the CAS did not match (ms, md, ma)
	StatusME                                       // "ME <key> <k>=<v>*": me's answer
	StatusMN                                       // "MN": mn's answer
)

// metaStatus returns the status of a two-letter meta code, zero for none.
func metaStatus(code []byte) Status {
	switch string(code) {
	case "VA":
		return StatusVA
	case "HD":
		return StatusHD
	case "EN":
		return StatusEN
	case "NF":
		return StatusNF
	case "NS":
		return StatusNS
	case "EX":
		return StatusEX
	case "ME":
		return StatusME
	case "MN":
		return StatusMN
	}
	return 0
}

// metaStatuses lists, by command, the statuses memcached answers it with
// (errors aside), as bits: 1<<StatusVA for VA.
var metaStatuses = [NumCommands]uint32{
	CmdMg: 1<<StatusVA | 1<<StatusHD | 1<<StatusEN,
	CmdMs: 1<<StatusHD | 1<<StatusNS | 1<<StatusEX | 1<<StatusNF,
	CmdMd: 1<<StatusHD | 1<<StatusNF | 1<<StatusEX,
	CmdMa: 1<<StatusVA | 1<<StatusHD | 1<<StatusNF | 1<<StatusNS | 1<<StatusEX,
	CmdMe: 1<<StatusME | 1<<StatusEN,
	// Before its MN, a quiet pipeline may hold any reply but me's.
	CmdMn: 1<<StatusVA | 1<<StatusHD | 1<<StatusEN | 1<<StatusNF | 1<<StatusNS | 1<<StatusEX,
}

// metaLineStatus returns the status of line as a reply to meta command
// cmd: an error line, or a code memcached answers cmd with, followed by a
// space or the line end (a VA or ME line needs what follows); zero for any
// other line.
func metaLineStatus(cmd Command, line []byte) Status {
	if st := errorStatus(line); st != 0 {
		return st
	}
	if len(line) < 4 || (line[2] != ' ' && line[2] != '\r') {
		return 0
	}
	st := metaStatus(line[:2])
	if st == 0 || metaStatuses[cmd]&(1<<st) == 0 || (line[2] != ' ' && (st == StatusVA || st == StatusME)) {
		return 0
	}
	return st
}

// readMeta reads the reply to meta command cmd whose first line is line.
func (r *ReplyReader) readMeta(dst, line []byte, cmd Command, res *Result) ([]byte, error) {
	if cmd == CmdMn {
		return r.readUntilMN(dst, line, res)
	}
	if res.Status = metaLineStatus(cmd, line); res.Status == 0 {
		return dst, malformed(cmd, line)
	}
	return r.readMetaValue(dst, line, cmd, res.Status)
}

// readUntilMN reads the replies to quiet meta requests followed by mn:
// meta replies and error lines, up to and including "MN\r\n".
func (r *ReplyReader) readUntilMN(dst, line []byte, res *Result) ([]byte, error) {
	for !bytes.Equal(line, ReplyMN) {
		st := metaLineStatus(CmdMn, line)
		if st == 0 {
			return dst, malformed(CmdMn, line)
		}
		var err error
		if dst, err = r.readMetaValue(dst, line, CmdMn, st); err != nil {
			return dst, err
		}
		if line, err = r.readLine(); err != nil {
			return dst, err
		}
	}
	res.Status = StatusMN
	return append(dst, line...), nil
}

// readMetaValue appends line, of status st, and for a VA line its data
// block.
func (r *ReplyReader) readMetaValue(dst, line []byte, cmd Command, st Status) ([]byte, error) {
	dst = append(dst, line...)
	if st != StatusVA {
		return dst, nil
	}
	n, ok := parseVASize(line)
	if !ok || n > r.maxItemSize {
		return dst, malformed(cmd, line)
	}
	dst, err := r.readBlock(dst, n+2)
	if err != nil {
		return dst, err
	}
	if !bytes.HasSuffix(dst, crlf) {
		return dst, fmt.Errorf("%w: value block not ending in \\r\\n", ErrMalformedReply)
	}
	return dst, nil
}

// parseVASize returns the size of a "VA <size>[ <flag>...]\r\n" line.
func parseVASize(line []byte) (int, bool) {
	if len(line) < 6 || line[2] != ' ' {
		return 0, false
	}
	rest := line[3 : len(line)-2]
	if i := bytes.IndexByte(rest, ' '); i >= 0 {
		rest = rest[:i]
	}
	v, ok := parseDigits(rest)
	if !ok || v > 1<<31-1 {
		return 0, false
	}
	return int(v), true
}

// MetaReply is one meta reply, as ReadReply returns it, split into its
// parts. Its slices point into the reply.
type MetaReply struct {
	// Code is the two-letter status: "VA", "HD", "EN", "NF", "NS", "EX",
	// "ME" or "MN".
	Code []byte
	// Flags holds the status line's return flags, space-separated, without
	// the code, VA's size and the line end: e.g. "f30 t-1".
	Flags []byte
	// Value is VA's data block without its "\r\n"; nil for other codes.
	Value []byte
}

// ParseMetaReply splits a meta reply. ok is false for an error line or
// anything else that is not one whole meta reply with one of the codes
// above.
func ParseMetaReply(reply []byte) (m MetaReply, ok bool) {
	i := bytes.IndexByte(reply, '\n')
	if i < 3 || reply[i-1] != '\r' {
		return m, false
	}
	line, rest := reply[:i+1], reply[i+1:]
	if metaStatus(line[:2]) == 0 || (line[2] != ' ' && line[2] != '\r') {
		return m, false
	}
	m.Code = line[:2]
	flags := line[2 : len(line)-2]
	if string(m.Code) == "VA" {
		n, ok := parseVASize(line)
		if !ok || len(rest) != n+2 || !bytes.HasSuffix(rest, crlf) {
			return MetaReply{}, false
		}
		m.Value = rest[:n]
		flags = flags[1:]
		if j := bytes.IndexByte(flags, ' '); j >= 0 {
			flags = flags[j:]
		} else {
			flags = flags[len(flags):]
		}
	} else if len(rest) != 0 {
		return MetaReply{}, false
	}
	m.Flags = bytes.TrimLeft(flags, " ")
	return m, true
}

// Flag returns the token of return flag f (the text after its letter, e.g.
// "30" for "f30"), and whether the reply has that flag.
func (m *MetaReply) Flag(f byte) ([]byte, bool) {
	rest := m.Flags
	for len(rest) > 0 {
		var tok []byte
		tok, rest, _ = bytes.Cut(rest, []byte{' '})
		if len(tok) > 0 && tok[0] == f {
			return tok[1:], true
		}
	}
	return nil, false
}
