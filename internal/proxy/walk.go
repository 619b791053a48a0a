package proxy

import (
	"sync"
	"time"

	"hashproxy/internal/metrics"
	"hashproxy/internal/proto"
	"hashproxy/internal/upstream"
)

// walk is a retrieval (get, gets, gat, gats) of keys that may have several
// homes. It asks each key's first home; the keys that one misses or fails
// on are asked of their next home, and so on, a round at a time, each
// round's keys grouped into one request per node. Reads are never sent to
// several homes of a key at once, so the load on the fleet does not
// multiply. The hits are written in the client's key order. Everything a
// walk holds is reused through a pool.
type walk struct {
	req    proto.Request // the client's command and exptime
	keyBuf []byte        // the client's keys, copied, back to back
	keys   [][]byte      // each key, in the client's order, sliced from keyBuf

	homes    []*node    // every key's homes, back to back
	first    []int      // the homes of keys[i] are homes[first[i]:first[i+1]]
	replicas []int      // how many of keys[i]'s homes are replica homes
	tried    []int      // how many of keys[i]'s homes have been asked
	missed   []uint64   // bit h of missed[i]: keys[i]'s home h answered without it
	hit      []valueRef // where keys[i]'s value is

	ops     []*upstream.Op
	opNode  []*node   // opNode[j] was asked ops[j]
	opKeys  [][]int   // opKeys[j] are the indexes of the keys ops[j] asks for, in order
	room    []int     // room[j] is how many more bytes of keys ops[j]'s line may name (proto's KeyRoom)
	scratch [][]byte  // the keys of the request being built
	fill    backfills // the copies of values into homes that missed them
	maxTTL  int64     // backfill_max_ttl, in seconds
	failed  int       // the index of the first op that failed, or -1
	ended   bool      // some home answered with END: the client gets hits and END
}

// valueRef is where a key's value is: ops[op].Values[value]; op is -1
// while no home has had the key.
type valueRef struct{ op, value int }

var walkPool = sync.Pool{New: func() any { return new(walk) }}

// startWalk asks the first home of each of req's keys, and owes the reply,
// which writeWalk completes.
func (c *clientConn) startWalk(req *proto.Request, r *routes) {
	w := walkPool.Get().(*walk)
	w.req = proto.Request{Cmd: req.Cmd, Exptime: req.Exptime}
	w.keyBuf = w.keyBuf[:0]
	for _, k := range req.Keys {
		w.keyBuf = append(w.keyBuf, k...)
	}
	w.keys = w.keys[:0]
	w.homes = w.homes[:0]
	w.first = append(w.first[:0], 0)
	w.replicas = w.replicas[:0]
	off := 0
	for _, k := range req.Keys {
		key := w.keyBuf[off : off+len(k) : off+len(k)]
		off += len(k)
		w.keys = append(w.keys, key)
		r.homesOf(&c.homes, key)
		w.homes = append(w.homes, c.homes.nodes...)
		w.first = append(w.first, len(w.homes))
		w.replicas = append(w.replicas, c.homes.replicas)
	}
	n := len(w.keys)
	w.tried = resize(w.tried, n)
	w.missed = resize(w.missed, n)
	w.hit = w.hit[:0]
	for range n {
		w.hit = append(w.hit, valueRef{op: -1})
	}
	w.failed, w.ended = -1, false
	w.maxTTL = int64(c.p.conf.Load().cfg.BackfillMaxTTL / time.Second)
	w.sendRound(c.affinity)
	c.owe(pending{kind: replyWalk, walk: w})
}

// resize returns s with n zero elements, reusing its storage.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// putWalk releases w and its ops.
func putWalk(w *walk) {
	for _, op := range w.ops {
		putOp(op)
	}
	clear(w.ops)
	w.ops = w.ops[:0]
	clear(w.homes)
	w.homes = w.homes[:0]
	clear(w.opNode)
	w.opNode = w.opNode[:0]
	w.room = w.room[:0]
	clear(w.scratch)
	clear(w.fill.adds)
	clear(w.fill.ttlOps)
	clear(w.fill.rereads)
	if cap(w.keyBuf) > maxPooledBuf {
		w.keyBuf = nil
	}
	walkPool.Put(w)
}

// sendRound asks every key that no home has had yet its next home, one
// request per node (or several, when one line would name more keys than
// proto's KeyRoom allows). It reports whether it asked anything.
func (w *walk) sendRound(affinity uint32) bool {
	start := len(w.ops)
	room := w.req.KeyRoom()
	for i := range w.keys {
		if w.hit[i].op >= 0 || w.first[i]+w.tried[i] == w.first[i+1] {
			continue
		}
		n := w.homes[w.first[i]+w.tried[i]]
		w.tried[i]++
		size := 1 + len(w.keys[i])
		j := start
		for j < len(w.ops) && (w.opNode[j] != n || w.room[j] < size) {
			j++
		}
		if j == len(w.ops) {
			w.ops = append(w.ops, getOp())
			w.opNode = append(w.opNode, n)
			w.room = append(w.room, room)
			if j < cap(w.opKeys) {
				w.opKeys = w.opKeys[:j+1]
				w.opKeys[j] = w.opKeys[j][:0]
			} else {
				w.opKeys = append(w.opKeys, nil)
			}
		}
		w.room[j] -= size
		w.opKeys[j] = append(w.opKeys[j], i)
	}
	for j := start; j < len(w.ops); j++ {
		w.scratch = w.scratch[:0]
		for _, i := range w.opKeys[j] {
			w.scratch = append(w.scratch, w.keys[i])
		}
		op := w.ops[j]
		op.Cmd = w.req.Cmd
		op.Req = w.req.AppendRetrieval(op.Req, w.scratch)
		op.SetKeys(w.scratch)
		w.opNode[j].srv.Do(op, affinity)
	}
	return len(w.ops) > start
}

// writeWalk waits for each round's replies, notes each key's hit or miss,
// and sends the next round, until every key has been found or has no home
// left; then it writes the hits in the client's key order and END, and
// backfills the homes that missed (see backfill). When no home answered at
// all, the client gets the first failure.
func (c *clientConn) writeWalk(w *walk) {
	start := 0
	for {
		end := len(w.ops)
		for j := start; j < end; j++ {
			c.collect(w, j)
		}
		start = end
		if !w.sendRound(c.affinity) {
			break
		}
	}
	if !w.ended {
		if op := w.ops[w.failed]; op.Err != nil {
			c.reply(op.Err.Reply)
		} else {
			c.reply(op.Reply)
		}
		return
	}
	// gets and gats wait for their backfills, to answer with the first
	// home's CAS unique; get and gat answer first.
	casUnique := w.req.Cmd == proto.CmdGets || w.req.Cmd == proto.CmdGats
	if casUnique {
		c.backfill(w)
	}
	c.writeHits(w)
	if !casUnique {
		c.backfill(w)
	}
}

// writeHits writes the walk's hits in the client's key order, then END.
func (c *clientConn) writeHits(w *walk) {
	for i := range w.keys {
		if h := w.hit[i]; h.op >= 0 {
			op := w.ops[h.op]
			v := op.Values[h.value]
			c.reply(op.Reply[v.Start:v.End])
		}
	}
	c.reply(proto.ReplyEnd)
}

// collect waits for ops[j] and notes, for each key it asked for, a hit or
// a miss on that home.
func (c *clientConn) collect(w *walk, j int) {
	op := w.ops[j]
	n := w.opNode[j]
	c.await(op)
	n.observe(op.Cmd, op)
	if op.Err != nil || op.Status != proto.StatusEnd {
		if w.failed < 0 {
			w.failed = j
		}
		return
	}
	w.ended = true
	v := 0
	for s, i := range w.opKeys[j] {
		home := w.tried[i] - 1
		if v < len(op.Values) && op.Values[v].Key == s {
			w.hit[i] = valueRef{op: j, value: v}
			v++
			if home > 0 {
				reason := metrics.FallbackReplica
				if home >= w.replicas[i] {
					reason = metrics.FallbackWarmup
				}
				n.m.Homes.FallbackHits[reason].Add(1)
			}
		} else if home < 64 {
			w.missed[i] |= 1 << home
		}
	}
}
