package upstream

import (
	"testing"
	"time"

	"hashproxy/internal/proto"
	"hashproxy/internal/testenv"
)

// TestOpCarriesItsParsedReply: a completed op holds its reply's status
// and, for a retrieval, each value's block and the index of the key it
// answers, read from a real memcached; the keys are the op's own copies,
// and a reused op starts empty.
func TestOpCarriesItsParsedReply(t *testing.T) {
	mc := testenv.StartMemcached(t)
	s := New(Options{Addr: mc.Addr, Timeout: 2 * time.Second})
	defer s.Close()
	for _, set := range []string{"set a 0 0 1\r\nA\r\n", "set c 5 0 2\r\nCC\r\n"} {
		if op := do(s, proto.CmdSet, set); op.Err != nil || op.Status != proto.StatusStored {
			t.Fatalf("%q: %v, status %d", set, op.Err, op.Status)
		}
	}

	op := NewOp()
	op.Cmd = proto.CmdGet
	op.Req = append(op.Req, "get a b c a\r\n"...)
	keys := [][]byte{[]byte("a"), []byte("b"), []byte("c"), []byte("a")}
	op.SetKeys(keys)
	keys[0][0], keys[2][0] = 'x', 'x' // the op holds copies
	s.Do(op, 0)
	op.Wait()
	if op.Err != nil || op.Status != proto.StatusEnd {
		t.Fatalf("get: %v, status %d, reply %q", op.Err, op.Status, op.Reply)
	}
	want := []struct {
		key   int
		block string
	}{
		{0, "VALUE a 0 1\r\nA\r\n"},
		{2, "VALUE c 5 2\r\nCC\r\n"},
		{3, "VALUE a 0 1\r\nA\r\n"},
	}
	if len(op.Values) != len(want) {
		t.Fatalf("values %+v in %q, want keys 0, 2, 3", op.Values, op.Reply)
	}
	for i, v := range op.Values {
		if v.Key != want[i].key || string(op.Reply[v.Start:v.End]) != want[i].block {
			t.Errorf("value %d: key %d, block %q; want %d, %q", i, v.Key, op.Reply[v.Start:v.End], want[i].key, want[i].block)
		}
	}
	if string(op.Reply[op.Values[2].End:]) != "END\r\n" {
		t.Errorf("reply %q", op.Reply)
	}

	op.Reset()
	op.Cmd = proto.CmdTouch
	op.Req = append(op.Req, "touch b 10\r\n"...)
	s.Do(op, 0)
	op.Wait()
	if op.Err != nil || op.Status != proto.StatusNotFound || len(op.Values) != 0 || len(op.Keys) != 0 {
		t.Fatalf("reused for touch: %v, status %d, values %v, keys %q", op.Err, op.Status, op.Values, op.Keys)
	}
}

// TestErrorLineIsAStatus: a node's error line is the reply, with its
// status, not a failure of the request.
func TestErrorLineIsAStatus(t *testing.T) {
	addr, _ := answering(t, "SERVER_ERROR out of memory writing get response\r\n")
	s := New(Options{Addr: addr, Timeout: time.Second})
	defer s.Close()
	op := do(s, proto.CmdGet, "get a\r\n")
	if op.Err != nil || op.Status != proto.StatusServerError || !op.Status.IsError() || len(op.Values) != 0 {
		t.Fatalf("got err %v, status %d, values %v", op.Err, op.Status, op.Values)
	}
}

// TestValueForAnotherKeyClosesTheConnection: a node that answers a get with
// another key's value (as one that replies twice to a request would) has
// lost track of its replies; the request fails and the connection is
// re-dialled instead of passing the value on.
func TestValueForAnotherKeyClosesTheConnection(t *testing.T) {
	addr, dials := answering(t, "VALUE other 0 1\r\nx\r\nEND\r\n")
	s := New(Options{Addr: addr, Timeout: time.Second})
	defer s.Close()
	op := do(s, proto.CmdGet, "get mine\r\n")
	if op.Err == nil || op.Err.Kind != KindProtocol || len(op.Reply) != 0 || op.Status != 0 || len(op.Values) != 0 {
		t.Fatalf("got err %v reply %q status %d values %v, want a protocol error", op.Err, op.Reply, op.Status, op.Values)
	}
	timeout := time.After(2 * time.Second)
	for i := 0; i < 2; i++ {
		select {
		case <-dials:
		case <-timeout:
			t.Fatalf("%d dials, want a re-dial after the foreign value", i)
		}
	}
}
