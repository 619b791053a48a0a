package proto

import "bytes"

// Some writes carry a CAS unique, which only the node that issued it
// knows: each copy of a key has its own. Sent as they are to every replica
// home of a key, they would fail on all but the first. So the first home
// alone gets them as the client sent them, and the other homes get a copy
// without the CAS once the first home has carried them out.

// FirstHomeOnly reports whether r is such a write: classic cas, and ms,
// md or ma with the C flag. An ms in mode E (add) is not one: memcached
// ignores its C, as add has nothing to compare.
func (r *Request) FirstHomeOnly() bool {
	switch r.Cmd {
	case CmdCas:
		return true
	case CmdMs:
		return r.MetaCAS && r.metaMode != 'E'
	case CmdMd, CmdMa:
		return r.MetaCAS
	}
	return false
}

// Applied reports whether reply, a node's whole reply of status st to a
// FirstHomeOnly write as AppendUpstream sent it, says the node carried it
// out: STORED, HD or VA; for a quiet ma, read up to its MN (see
// QuietUntilMN), nothing before the MN or an HD or VA.
func Applied(st Status, reply []byte) bool {
	switch st {
	case StatusStored, StatusHD, StatusVA:
		return true
	case StatusMN:
		return bytes.Equal(reply, ReplyMN) || bytes.HasPrefix(reply, []byte("HD")) || bytes.HasPrefix(reply, []byte("VA "))
	}
	return false
}

// CopyCommand is the command whose reply ReplyReader.ReadReply must read
// for what AppendCopy sent: set for a cas, r.Cmd for a meta write.
func (r *Request) CopyCommand() Command {
	if r.Cmd == CmdCas {
		return CmdSet
	}
	return r.Cmd
}

// AppendCopy appends the write the other homes of r's key get once the
// first home has carried out r, a FirstHomeOnly write: for cas, a set of
// the same value, flags and exptime; for a meta write, r without its C
// and q flags (that reply is not the client's), and an ms in mode R
// without its mode, so that, as cas's copies, it is a set. Every other
// flag stays: the mode of an ms appending or prepending, the client flags
// and TTL of an ms, the delta and N of an ma, md's I.
func (r *Request) AppendCopy(dst []byte) []byte {
	if r.Cmd == CmdCas {
		r.Cmd = CmdSet
		dst = r.AppendUpstream(dst)
		r.Cmd = CmdCas
		return dst
	}
	dst = append(dst, r.Cmd.String()...)
	for i, a := range r.Args {
		if i >= r.metaFlagStart() && (a[0] == 'C' || a[0] == 'q' || r.Cmd == CmdMs && string(a) == "MR") {
			continue
		}
		dst = append(dst, ' ')
		dst = append(dst, a...)
	}
	dst = append(dst, "\r\n"...)
	return append(dst, r.Data...)
}
