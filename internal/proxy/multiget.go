package proxy

import (
	"sync"

	"hashproxy/internal/proto"
	"hashproxy/internal/upstream"
)

// multiGet is a retrieval split over several nodes (or, reused, flush_all
// sent to all of them). Everything it holds is reused through a pool.
type multiGet struct {
	keyBuf []byte   // the client's keys, copied, back to back
	keys   [][]byte // each key, in the client's order, sliced from keyBuf
	owner  []int    // owner[i] is the index in ops of the op asking for keys[i]
	slot   []int    // slot[i] is the index of keys[i] in its op's keys
	opOf   []int    // ring index → index in ops, or -1
	nodes  []*node  // nodes[j] serves ops[j]
	opKeys [][][]byte
	room   []int // room[j] is how many more bytes of keys ops[j]'s line may name (proto's KeyRoom)
	ops    []*upstream.Op
	next   []int // merge cursor: the index of each op's next value
	// replicas is, for a write to a key's homes, how many of nodes are its
	// replica homes (the rest are warm-up homes).
	replicas int
	// firstOnly is set, for a write to a key's homes, when ops[1:] wait
	// for the first home to carry the write out (proto's FirstHomeOnly).
	firstOnly bool
}

var multiPool = sync.Pool{New: func() any { return new(multiGet) }}

func getMulti() *multiGet { return multiPool.Get().(*multiGet) }

// putMulti releases m and its ops.
func putMulti(m *multiGet) {
	for _, op := range m.ops {
		putOp(op)
	}
	clear(m.nodes)
	m.nodes = m.nodes[:0]
	m.ops = m.ops[:0]
	m.firstOnly = false
	if cap(m.keyBuf) > maxPooledBuf {
		m.keyBuf = nil
	}
	multiPool.Put(m)
}

// split copies req's keys and groups them by owning node, in one request
// per node, or several when one line would name more keys than
// req.KeyRoom allows, and returns the number of requests.
func (m *multiGet) split(r *routes, req *proto.Request) int {
	m.keyBuf = m.keyBuf[:0]
	for _, k := range req.Keys {
		m.keyBuf = append(m.keyBuf, k...)
	}
	m.keys = m.keys[:0]
	m.owner = m.owner[:0]
	m.slot = m.slot[:0]
	off := 0
	for _, k := range req.Keys {
		m.keys = append(m.keys, m.keyBuf[off:off+len(k):off+len(k)])
		off += len(k)
	}
	if cap(m.opOf) < len(r.nodes) {
		m.opOf = make([]int, len(r.nodes))
	}
	m.opOf = m.opOf[:len(r.nodes)]
	for i := range m.opOf {
		m.opOf[i] = -1
	}
	room := req.KeyRoom()
	m.room = m.room[:0]
	for _, k := range m.keys {
		ri := r.ring.Pick(k)
		j := m.opOf[ri]
		if j < 0 || m.room[j] < 1+len(k) {
			j = len(m.nodes)
			m.opOf[ri] = j
			m.nodes = append(m.nodes, r.nodes[ri])
			m.room = append(m.room, room)
			if j < cap(m.opKeys) {
				m.opKeys = m.opKeys[:j+1]
				m.opKeys[j] = m.opKeys[j][:0]
			} else {
				m.opKeys = append(m.opKeys, nil)
			}
		}
		m.room[j] -= 1 + len(k)
		m.owner = append(m.owner, j)
		m.slot = append(m.slot, len(m.opKeys[j]))
		m.opKeys[j] = append(m.opKeys[j], k)
	}
	return len(m.nodes)
}

// send issues the retrievals split made, on the connections that
// affinity selects.
func (m *multiGet) send(req *proto.Request, affinity uint32) {
	for j, n := range m.nodes {
		op := getOp()
		op.Cmd = req.Cmd
		op.Req = req.AppendRetrieval(op.Req, m.opKeys[j])
		op.SetKeys(m.opKeys[j])
		m.ops = append(m.ops, op)
		n.srv.Do(op, affinity)
	}
}

// writeMulti waits for every node's reply and writes the hits in the
// client's key order, then one END. Keys whose node failed count as misses,
// unless every node failed: then the client gets the first failure.
func (c *clientConn) writeMulti(m *multiGet) {
	failed := 0
	var failure []byte
	for j, op := range m.ops {
		c.await(op)
		m.nodes[j].observe(op.Cmd, op)
		switch {
		case op.Err != nil:
			failed++
			if failure == nil {
				failure = op.Err.Reply
			}
		case op.Status != proto.StatusEnd:
			failed++ // an error line from the node
			if failure == nil {
				failure = op.Reply
			}
		}
	}
	if failed == len(m.ops) {
		c.reply(failure)
		return
	}
	m.next = m.next[:0]
	for range m.ops {
		m.next = append(m.next, 0)
	}
	for i := range m.keys {
		j := m.owner[i]
		op := m.ops[j]
		if m.next[j] == len(op.Values) || op.Values[m.next[j]].Key != m.slot[i] {
			continue // a miss: the node returned nothing for this key
		}
		v := op.Values[m.next[j]]
		c.reply(op.Reply[v.Start:v.End])
		m.next[j]++
	}
	c.reply(proto.ReplyEnd)
}
