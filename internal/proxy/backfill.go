package proxy

import (
	"bytes"
	"strconv"

	"hashproxy/internal/metrics"
	"hashproxy/internal/proto"
	"hashproxy/internal/upstream"
)

// A backfill copies a value a later home had into the earlier homes of its
// key that missed it, so that the next read finds it on its first home. It
// asks the home that had it for the value's remaining time to live
// ("mg <key> t"; memcached 1.6 and later), then adds the value to each
// home that missed, with memcached's add, which never overwrites a value a
// client stored meanwhile. The time to live is at most backfill_max_ttl;
// a value without expiry gets that much. A backfill only follows a hit
// from a later home, so a pool whose keys are on their first home does
// none.

// backfills is the state of a walk's backfills: for each key to copy,
// where its value is and the ops that copy it.
type backfills struct {
	keys    []int // indexes of the walk's keys to copy
	ttlOps  []*upstream.Op
	adds    []pendingAdd
	rereads []pendingReread
}

// pendingAdd is an add to a home that missed the value.
type pendingAdd struct {
	op *upstream.Op
	n  *node
}

// pendingReread is a gets of key on its first home after a backfill, for
// the first home's CAS unique.
type pendingReread struct {
	key int
	op  *upstream.Op
}

// needsBackfill reports whether key i was found on a later home and some
// earlier home answered that it did not have it.
func (w *walk) needsBackfill(i int) bool {
	h := w.hit[i]
	if h.op < 0 {
		return false
	}
	home := w.homeOf(i, w.opNode[h.op])
	return home > 0 && w.missed[i]&(1<<home-1) != 0
}

// homeOf returns the index of n among key i's homes.
func (w *walk) homeOf(i int, n *node) int {
	for h, m := range w.homes[w.first[i]:w.first[i+1]] {
		if m == n {
			return h
		}
	}
	return -1
}

// backfill copies every value found on a later home into the earlier homes
// of its key that missed it. For gets and gats, it then reads each such key
// again from its first home, so that the client gets that home's CAS
// unique (and a following cas works); the walk's hit then points there.
func (c *clientConn) backfill(w *walk) {
	b := &w.fill
	b.keys = b.keys[:0]
	b.ttlOps = b.ttlOps[:0]
	for i := range w.keys {
		if w.needsBackfill(i) {
			b.keys = append(b.keys, i)
		}
	}
	if len(b.keys) == 0 {
		return
	}
	for _, i := range b.keys {
		op := getOp()
		op.Cmd = proto.CmdMg
		op.Req = append(append(append(op.Req, "mg "...), w.keys[i]...), " t\r\n"...)
		w.opNode[w.hit[i].op].srv.Do(op, c.affinity)
		b.ttlOps = append(b.ttlOps, op)
		w.ops = append(w.ops, op) // released with the walk
		w.opNode = append(w.opNode, w.opNode[w.hit[i].op])
	}
	b.adds = b.adds[:0]
	for k, i := range b.keys {
		op := b.ttlOps[k]
		c.await(op)
		w.opNode[w.hit[i].op].observe(op.Cmd, op)
		ttl, ok := remainingTTL(op, w.maxTTL)
		if !ok {
			continue // gone from the home that had it, or no meta: no copy
		}
		h := w.hit[i]
		src := w.ops[h.op]
		v := src.Values[h.value]
		flags, data, ok := valueParts(src.Reply[v.Start:v.End])
		if !ok {
			continue
		}
		homes := w.homes[w.first[i]:w.first[i+1]]
		for home := 0; home < w.homeOf(i, w.opNode[h.op]); home++ {
			if w.missed[i]&(1<<home) == 0 {
				continue
			}
			add := getOp()
			add.Cmd = proto.CmdAdd
			req := proto.Request{Cmd: proto.CmdAdd, Keys: [][]byte{w.keys[i]}, Flags: flags, Exptime: ttl, Data: data}
			add.Req = req.AppendUpstream(add.Req)
			homes[home].srv.Do(add, c.affinity)
			b.adds = append(b.adds, pendingAdd{op: add, n: homes[home]})
			w.ops = append(w.ops, add)
			w.opNode = append(w.opNode, homes[home])
		}
	}
	for _, a := range b.adds {
		c.await(a.op)
		a.n.observe(a.op.Cmd, a.op)
		result := metrics.BackfillFailed
		switch {
		case a.op.Err != nil:
		case a.op.Status == proto.StatusStored:
			result = metrics.BackfillStored
		case a.op.Status == proto.StatusNotStored:
			result = metrics.BackfillNotStored
		}
		a.n.m.Homes.Backfills[result].Add(1)
	}
	if w.req.Cmd != proto.CmdGets && w.req.Cmd != proto.CmdGats {
		return
	}
	c.rereadFirstHomes(w)
}

// rereadFirstHomes reads each backfilled key of a gets or gats again from
// its first home, when that home missed it, and makes the walk's hit point
// to that reply, with that home's CAS unique.
func (c *clientConn) rereadFirstHomes(w *walk) {
	b := &w.fill
	b.rereads = b.rereads[:0]
	for _, i := range b.keys {
		if w.missed[i]&1 == 0 {
			continue
		}
		op := getOp()
		op.Cmd = proto.CmdGets
		req := proto.Request{Cmd: proto.CmdGets}
		op.Req = req.AppendRetrieval(op.Req, w.keys[i:i+1])
		op.SetKeys(w.keys[i : i+1])
		n := w.homes[w.first[i]]
		n.srv.Do(op, c.affinity)
		b.rereads = append(b.rereads, pendingReread{key: i, op: op})
		w.ops = append(w.ops, op)
		w.opNode = append(w.opNode, n)
	}
	for k, r := range b.rereads {
		c.await(r.op)
		w.opNode[len(w.opNode)-len(b.rereads)+k].observe(r.op.Cmd, r.op)
		if r.op.Err == nil && r.op.Status == proto.StatusEnd && len(r.op.Values) == 1 {
			w.hit[r.key] = valueRef{op: len(w.ops) - len(b.rereads) + k, value: 0}
		}
	}
}

// remainingTTL reads the time to live from the reply to "mg <key> t" and
// returns the expiry to copy the value with (see copyTTL).
func remainingTTL(op *upstream.Op, maxTTL int64) (int32, bool) {
	if op.Err != nil || op.Status != proto.StatusHD {
		return 0, false
	}
	m, ok := proto.ParseMetaReply(op.Reply)
	if !ok {
		return 0, false
	}
	return copyTTL(m, maxTTL)
}

// copyTTL returns the expiry to copy a value with from its meta reply's t
// flag: the remaining seconds, at most maxTTL, or maxTTL for a value
// without expiry (t-1).
func copyTTL(m proto.MetaReply, maxTTL int64) (int32, bool) {
	tok, ok := m.Flag('t')
	if !ok {
		return 0, false
	}
	if bytes.Equal(tok, []byte("-1")) {
		return int32(maxTTL), true
	}
	ttl, err := strconv.ParseInt(string(tok), 10, 64)
	if err != nil || ttl < 0 {
		return 0, false
	}
	if ttl == 0 {
		ttl = 1 // about to expire: a second, not "never" (0 means no expiry)
	}
	return int32(min(ttl, maxTTL)), true
}

// valueParts returns the client flags and the data block, with its
// "\r\n", of a "VALUE <key> <flags> <bytes> [<cas>]\r\n<data>\r\n" block.
func valueParts(block []byte) (flags uint32, data []byte, ok bool) {
	line, data, found := bytes.Cut(block, []byte("\r\n"))
	if !found {
		return 0, nil, false
	}
	fields := bytes.Fields(line)
	if len(fields) < 4 {
		return 0, nil, false
	}
	f, err := strconv.ParseUint(string(fields[2]), 10, 32)
	if err != nil {
		return 0, nil, false
	}
	return uint32(f), data, true
}
