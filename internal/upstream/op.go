package upstream

import (
	"time"

	"hashproxy/internal/proto"
)

// Op is one request to a memcached node and, once done, its reply. An Op is
// owned by its submitter until passed to Server.Do, by the upstream package
// until it completes, and by the submitter again after Wait returns; Ops are
// reused, so nothing may keep a reference past that.
type Op struct {
	// Cmd is the request's command, which says how to read its reply.
	Cmd proto.Command
	// Req holds the bytes sent to the node: command line and data block.
	Req []byte
	// Reply holds the node's reply bytes, unchanged, after Wait.
	Reply []byte
	// Values is the number of VALUE blocks in Reply (hits, for retrievals).
	Values int
	// Err is non-nil when the request failed; Reply is then empty.
	Err *Error
	// Start is when the op was submitted; Deadline is when it times out.
	Start, Deadline time.Time

	done chan struct{} // receives one value when the op completes
}

// NewOp returns an empty, reusable Op.
func NewOp() *Op {
	return &Op{done: make(chan struct{}, 1)}
}

// Reset prepares a completed op for reuse, keeping its buffers.
func (op *Op) Reset() {
	op.Req = op.Req[:0]
	op.Reply = op.Reply[:0]
	op.Values = 0
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
	op.Values = 0
	op.Err = err
	op.done <- struct{}{}
}
