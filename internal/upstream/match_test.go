package upstream

import (
	"testing"
	"time"

	"hashproxy/internal/proto"
)

func TestValuesAnswer(t *testing.T) {
	const (
		va  = "VALUE a 0 1\r\n1\r\n"
		vb  = "VALUE b 0 1\r\n2\r\n"
		end = "END\r\n"
	)
	cases := []struct {
		name       string
		cmd        proto.Command
		req, reply string
		want       bool
	}{
		{"miss", proto.CmdGet, "get a\r\n", end, true},
		{"hit", proto.CmdGet, "get a\r\n", va + end, true},
		{"other key", proto.CmdGet, "get a\r\n", vb + end, false},
		{"key prefix of asked key", proto.CmdGet, "get ab\r\n", va + end, false},
		{"asked key prefix of value key", proto.CmdGet, "get a\r\n", "VALUE ab 0 1\r\n1\r\n" + end, false},
		{"two in order", proto.CmdGet, "get a b\r\n", va + vb + end, true},
		{"two out of order", proto.CmdGet, "get a b\r\n", vb + va + end, false},
		{"one of two", proto.CmdGets, "get a b\r\n", vb + end, true},
		{"answered twice, asked once", proto.CmdGet, "get a\r\n", va + va + end, false},
		{"asked twice, answered twice", proto.CmdGet, "get a a\r\n", va + va + end, true},
		{"gat skips the exptime", proto.CmdGat, "gat 100 a\r\n", va + end, true},
		{"gat value named like the exptime", proto.CmdGats, "gats 1 a\r\n", "VALUE 1 0 1\r\n1\r\n" + end, false},
		{"error line", proto.CmdGet, "get a\r\n", "SERVER_ERROR out of memory\r\n", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := valuesAnswer(tc.cmd, []byte(tc.req), []byte(tc.reply)); got != tc.want {
				t.Errorf("valuesAnswer(%q, %q) = %v, want %v", tc.req, tc.reply, got, tc.want)
			}
		})
	}
}

func FuzzValuesAnswer(f *testing.F) {
	f.Add("get a\r\n", "VALUE a 0 1\r\n1\r\nEND\r\n")
	f.Add("get a b\r\n", "VALUE b 0 1\r\n2\r\nVALUE a 0 1\r\n1\r\nEND\r\n")
	f.Add("gat 0 a\r\n", "VALUE 0 0 0\r\n\r\nEND\r\n")
	f.Add("get\r\n", "VALUE  0 0\r\n\r\nEND\r\n")
	f.Add("", "VALUE a 0 1\r\n")
	f.Fuzz(func(t *testing.T, req, reply string) {
		for _, cmd := range []proto.Command{proto.CmdGet, proto.CmdGat} {
			ok := valuesAnswer(cmd, []byte(req), []byte(reply))
			_, _, _, hasValue := proto.NextValue([]byte(reply))
			if !hasValue && !ok {
				t.Fatalf("a reply without values rejected: %q", reply)
			}
		}
	})
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
	if op.Err == nil || op.Err.Kind != KindProtocol {
		t.Fatalf("got err %v reply %q, want a protocol error", op.Err, op.Reply)
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
