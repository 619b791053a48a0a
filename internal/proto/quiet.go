package proto

// Quiet says which of a node's replies to a meta request with the q flag
// the client must not see. The q flag asks memcached to leave out a
// request's nominal reply; a node that did so would break the proxy's one
// reply per request, so AppendUpstream removes the flag and the proxy
// drops what memcached would have left out. Errors are always shown.
type Quiet uint8

const (
	// QuietNone: every reply is shown (no q flag, or not a meta command).
	QuietNone Quiet = iota
	// QuietMiss: mg q shows everything but a miss, "EN".
	QuietMiss
	// QuietHD: ms q and md q show everything but success, "HD".
	QuietHD
	// QuietUntilMN: ma q hides the reply for a counter that existed but
	// shows it for one N created, which the reply does not tell apart. So
	// the node keeps the q flag and "mn" follows the request
	// (AppendUpstream adds it); the reply, read as an mn's (ReplyCommand),
	// is whatever the node sent before "MN".
	QuietUntilMN
)

// QuietMode returns what r's q flag hides.
func (r *Request) QuietMode() Quiet {
	if !r.Quiet {
		return QuietNone
	}
	switch r.Cmd {
	case CmdMg:
		return QuietMiss
	case CmdMs, CmdMd:
		return QuietHD
	case CmdMa:
		return QuietUntilMN
	}
	return QuietNone
}

// ReplyCommand is the command whose reply ReplyReader.ReadReply must read
// for what AppendUpstream sent for r: CmdMn for a quiet ma, r.Cmd
// otherwise.
func (r *Request) ReplyCommand() Command {
	if r.QuietMode() == QuietUntilMN {
		return CmdMn
	}
	return r.Cmd
}

// Visible returns the part of reply, a node's complete reply of status st
// to a request with quiet mode q, that the client sees: all of it,
// nothing, or (for QuietUntilMN) all but the final "MN\r\n".
func (q Quiet) Visible(st Status, reply []byte) []byte {
	switch {
	case q == QuietMiss && st == StatusEN, q == QuietHD && st == StatusHD:
		return nil
	case q == QuietUntilMN && st == StatusMN:
		return reply[:len(reply)-len(ReplyMN)]
	}
	return reply
}
