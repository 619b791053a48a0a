package proxy

import (
	"strconv"
	"sync"
	"time"

	"hashproxy/internal/metrics"
	"hashproxy/internal/proto"
	"hashproxy/internal/upstream"
)

// metaWalk is an mg of a key with several homes, walked as a get is (see
// walk): the first home is asked, and on a miss (EN) or an error the next,
// until one has the key. A hit from a later home is copied into the
// earlier homes that missed it, with "ms ... ME" (add: it never overwrites
// a value stored meanwhile) and the value's flags and remaining time to
// live, read with "mg <key> v f t"; then the client's mg is asked of the
// first home again, so that what it answers (a CAS unique, a hit flag) is
// that home's. Everything it holds is reused through a pool.
type metaWalk struct {
	req      []byte // the mg as a node is sent it
	key      []byte // the key as the client sent it: base64 when b64
	b64      bool
	quiet    proto.Quiet
	nodes    []*node // the key's homes, in order
	replicas int     // nodes[:replicas] are replica homes, the rest warm-up homes
	ops      []*upstream.Op
	maxTTL   int64 // backfill_max_ttl, in seconds
}

var metaWalkPool = sync.Pool{New: func() any { return new(metaWalk) }}

// walksHomes reports whether an mg may be walked over its key's homes: not
// one that creates the item on a miss (N), which its first home does.
func walksHomes(req *proto.Request) bool {
	for _, a := range req.Args[1:] {
		if len(a) > 0 && a[0] == 'N' {
			return false
		}
	}
	return true
}

// startMetaWalk asks the first of h, the homes of req's key, and owes the
// reply, which writeMetaWalk completes.
func (c *clientConn) startMetaWalk(req *proto.Request, h *homes) {
	w := metaWalkPool.Get().(*metaWalk)
	w.req = req.AppendUpstream(w.req[:0])
	w.key = append(w.key[:0], req.Args[0]...)
	w.b64 = req.Base64Key
	w.quiet = req.QuietMode()
	w.nodes = append(w.nodes[:0], h.nodes...)
	w.replicas = h.replicas
	w.maxTTL = int64(c.p.conf.Load().cfg.BackfillMaxTTL / time.Second)
	w.ops = append(w.ops[:0], w.send(w.nodes[0], w.req, proto.CmdMg, c.affinity))
	c.owe(pending{kind: replyMetaWalk, metaWalk: w})
}

// putMetaWalk releases w and its ops.
func putMetaWalk(w *metaWalk) {
	for _, op := range w.ops {
		putOp(op)
	}
	clear(w.ops)
	w.ops = w.ops[:0]
	clear(w.nodes)
	w.nodes = w.nodes[:0]
	metaWalkPool.Put(w)
}

// send sends req, a request of command cmd, to n, and keeps its op.
func (w *metaWalk) send(n *node, req []byte, cmd proto.Command, affinity uint32) *upstream.Op {
	op := getOp()
	op.Cmd = cmd
	op.Req = append(op.Req, req...)
	n.srv.Do(op, affinity)
	return op
}

// writeMetaWalk asks the key's homes in turn until one has it, backfills
// the earlier homes that missed it, and writes the reply: the hit (as the
// first home answers it after a backfill), else the first miss, else the
// first home's error; quiet mode applied.
func (c *clientConn) writeMetaWalk(w *metaWalk) {
	hit, miss := -1, -1
	var missed uint64
	for i, n := range w.nodes {
		if i > 0 {
			w.ops = append(w.ops, w.send(n, w.req, proto.CmdMg, c.affinity))
		}
		op := w.ops[i]
		c.await(op)
		n.observe(op.Cmd, op)
		if op.Err != nil {
			continue
		}
		if op.Status == proto.StatusVA || op.Status == proto.StatusHD {
			hit = i
			break
		}
		if op.Status == proto.StatusEN {
			if miss < 0 {
				miss = i
			}
			if i < 64 {
				missed |= 1 << i
			}
		}
	}
	answer := w.ops[0]
	switch {
	case hit >= 0:
		answer = w.ops[hit]
		if hit > 0 {
			reason := metrics.FallbackReplica
			if hit >= w.replicas {
				reason = metrics.FallbackWarmup
			}
			w.nodes[hit].m.Homes.FallbackHits[reason].Add(1)
			if missed&(1<<hit-1) != 0 {
				if again := c.backfillMeta(w, hit, missed); again != nil {
					answer = again
				}
			}
		}
	case miss >= 0:
		answer = w.ops[miss]
	}
	if answer.Err != nil {
		c.reply(answer.Err.Reply)
		return
	}
	c.reply(w.quiet.Visible(answer.Status, answer.Reply))
}

// backfillMeta copies the value home hit had into the earlier homes that
// missed it (bits of missed), then, when the first home took the copy,
// asks it the client's mg again and returns that op; else nil.
func (c *clientConn) backfillMeta(w *metaWalk, hit int, missed uint64) *upstream.Op {
	src := w.send(w.nodes[hit], w.appendMeta(nil, "mg", -1, " v f t"), proto.CmdMg, c.affinity)
	w.ops = append(w.ops, src)
	c.await(src)
	w.nodes[hit].observe(src.Cmd, src)
	if src.Err != nil || src.Status != proto.StatusVA {
		return nil // gone from the home that had it meanwhile
	}
	m, ok := proto.ParseMetaReply(src.Reply)
	if !ok {
		return nil
	}
	ttl, ok := copyTTL(m, w.maxTTL)
	flags, hasFlags := m.Flag('f')
	if !ok || !hasFlags {
		return nil
	}
	suffix := " F" + string(flags) + " T" + strconv.Itoa(int(ttl)) + " ME"
	var firstStored bool
	start := len(w.ops)
	for home := 0; home < hit; home++ {
		if missed&(1<<home) == 0 {
			continue
		}
		req := w.appendMeta(nil, "ms", len(m.Value), suffix)
		req = append(append(req, m.Value...), "\r\n"...)
		w.ops = append(w.ops, w.send(w.nodes[home], req, proto.CmdMs, c.affinity))
	}
	j := start
	for home := 0; home < hit; home++ {
		if missed&(1<<home) == 0 {
			continue
		}
		op, n := w.ops[j], w.nodes[home]
		j++
		c.await(op)
		n.observe(op.Cmd, op)
		result := metrics.BackfillFailed
		switch {
		case op.Err != nil:
		case op.Status == proto.StatusHD:
			result = metrics.BackfillStored
			firstStored = firstStored || home == 0
		case op.Status == proto.StatusNS:
			result = metrics.BackfillNotStored
		}
		n.m.Homes.Backfills[result].Add(1)
	}
	if !firstStored {
		return nil
	}
	again := w.send(w.nodes[0], w.req, proto.CmdMg, c.affinity)
	w.ops = append(w.ops, again)
	c.await(again)
	w.nodes[0].observe(again.Cmd, again)
	if again.Err != nil || (again.Status != proto.StatusVA && again.Status != proto.StatusHD) {
		return nil
	}
	return again
}

// appendMeta appends "<verb> <key>[ <size>][ b]<suffix>\r\n", the key as
// the client sent it; size is left out when negative.
func (w *metaWalk) appendMeta(dst []byte, verb string, size int, suffix string) []byte {
	dst = append(append(append(dst, verb...), ' '), w.key...)
	if size >= 0 {
		dst = strconv.AppendInt(append(dst, ' '), int64(size), 10)
	}
	if w.b64 {
		dst = append(dst, " b"...)
	}
	return append(append(dst, suffix...), "\r\n"...)
}
