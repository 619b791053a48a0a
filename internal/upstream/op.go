package upstream

import (
	"time"

	"hashproxy/internal/proto"
)

// Op is one request to a memcached node and, once done, its reply. An Op is
// owned by its submitter until passed to Server.Do, by the upstream package
// until it completes, and by the submitter again after Wait returns; Ops are
// reused, so nothing may keep a reference past that. Everything an Op's
// slices point to is its own, reused from one request to the next: Keys,
// Req, Reply, and the Values of its Result.
type Op struct {
	// Cmd is the request's command, which says how to read its reply.
	Cmd proto.Command
	// Keys are the keys a retrieval asks for, in the order Req sends them;
	// set them with SetKeys. Every value in the reply must answer one of
	// them, in that order, or the connection is closed. Empty for other
	// commands.
	Keys [][]byte
	// Req holds the bytes sent to the node: command line and data block.
	Req []byte
	// Reply holds the node's reply bytes, unchanged, after Wait.
	Reply []byte
	// Result is Reply as it was parsed while read: its Status and, for a
	// retrieval, where each VALUE block sits in Reply and the index in Keys
	// of the key it answers (a key without one missed).
	proto.Result
	// Err is non-nil when the request failed; Reply and Result are then
	// empty.
	Err *Error
	// Start is when the op was submitted; Deadline is when it times out.
	Start, Deadline time.Time

	keyBuf []byte        // holds the bytes of Keys
	done   chan struct{} // receives one value when the op completes
}

// NewOp returns an empty, reusable Op.
func NewOp() *Op {
	return &Op{done: make(chan struct{}, 1)}
}

// SetKeys sets Keys to copies of keys, held by the op, so that they stay
// valid while the request is in flight whatever becomes of keys.
func (op *Op) SetKeys(keys [][]byte) {
	op.keyBuf = op.keyBuf[:0]
	for _, k := range keys {
		op.keyBuf = append(op.keyBuf, k...)
	}
	op.Keys = op.Keys[:0]
	off := 0
	for _, k := range keys {
		op.Keys = append(op.Keys, op.keyBuf[off:off+len(k):off+len(k)])
		off += len(k)
	}
}

// Reset prepares a completed op for reuse, keeping its buffers.
func (op *Op) Reset() {
	op.Keys = op.Keys[:0]
	op.Req = op.Req[:0]
	op.Reply = op.Reply[:0]
	op.Status, op.Values = 0, op.Values[:0]
	op.Err = nil
}

// Wait blocks until the op completes. Every op passed to Server.Do
// completes exactly once, by its deadline or soon after.
func (op *Op) Wait() { <-op.done }

// Ready reports whether the op has completed, without blocking. After it
// returns true, Wait must not be called.
func (op *Op) Ready() bool {
	select {
	case <-op.done:
		return true
	default:
		return false
	}
}

// complete finishes the op successfully.
func (op *Op) complete() { op.done <- struct{}{} }

// fail finishes the op with an error.
func (op *Op) fail(err *Error) {
	op.Reply = op.Reply[:0]
	op.Status, op.Values = 0, op.Values[:0]
	op.Err = err
	op.done <- struct{}{}
}
