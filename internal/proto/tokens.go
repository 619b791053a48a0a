package proto

// minTokens is the most tokens any command but a retrieval or stats may
// have and still be valid, plus one to tell "too many": a meta command's.
const minTokens = maxMetaTokens + 1

// span is a token's place in its line.
type span struct{ start, end int }

// tokens splits a command line at spaces, as memcached does: runs of
// spaces separate tokens, and every other byte (tabs and "\r" included)
// belongs to a token.
type tokens struct {
	s    []span // the first tokens of the line, up to split's limit
	n    int    // how many tokens the line has
	last span   // the line's last token
}

// split records the tokens of line, keeping the positions of at most limit
// of them.
func (t *tokens) split(line []byte, limit int) {
	t.s = t.s[:0]
	t.n = 0
	for i := 0; i < len(line); {
		if line[i] == ' ' {
			i++
			continue
		}
		j := i + 1
		for j < len(line) && line[j] != ' ' {
			j++
		}
		sp := span{i, j}
		if len(t.s) < limit {
			t.s = append(t.s, sp)
		}
		t.last = sp
		t.n++
		i = j
	}
}

// overflow reports whether the line had more tokens than split kept.
func (t *tokens) overflow() bool { return t.n > len(t.s) }

// at returns token i of line; i must be below len(t.s).
func (t *tokens) at(line []byte, i int) []byte {
	return line[t.s[i].start:t.s[i].end]
}

// lastIs reports whether the line's last token is word.
func (t *tokens) lastIs(line []byte, word string) bool {
	return t.n > 0 && string(line[t.last.start:t.last.end]) == word
}

// shrink releases a token array grown beyond keepScratch bytes.
func (t *tokens) shrink() {
	if cap(t.s)*16 > keepScratch {
		t.s = nil
	}
}

// fill sets req's Keys and Args from line, whose command req.Cmd has been
// validated. key64 holds the decoded key of a meta command with the b flag.
func (t *tokens) fill(line []byte, req *Request, key64 []byte) {
	if req.Cmd.Meta() {
		t.fillMeta(line, req, key64)
		return
	}
	switch req.Cmd {
	case CmdGet, CmdGets, CmdGat, CmdGats:
		first := 1
		if req.Cmd.touches() {
			first = 2
		}
		for i := first; i < t.n; i++ {
			req.Keys = append(req.Keys, t.at(line, i))
		}
	case CmdSet, CmdAdd, CmdReplace, CmdAppend, CmdPrepend, CmdCas,
		CmdDelete, CmdIncr, CmdDecr, CmdTouch:
		req.Keys = append(req.Keys, t.at(line, 1))
	case CmdFlushAll, CmdVerbosity, CmdStats:
		end := t.n
		if req.NoReply {
			end--
		}
		for i := 1; i < end; i++ {
			req.Args = append(req.Args, t.at(line, i))
		}
	}
}
