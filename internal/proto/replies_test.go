package proto

import "testing"

func TestReplyWriters(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{string(AppendStat(nil, "version", "1.2.3")), "STAT version 1.2.3\r\n"},
		{string(AppendStatInt(nil, "pid", -1)), "STAT pid -1\r\n"},
		{string(AppendStatUint(nil, "cmd_get", 1<<64-1)), "STAT cmd_get 18446744073709551615\r\n"},
		{string(AppendVersion(nil, "0.1.0")), "VERSION 0.1.0\r\n"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestReplyWritersDoNotAllocate(t *testing.T) {
	buf := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(100, func() {
		buf = AppendStatUint(buf[:0], "get_hits", 12345)
		buf = AppendVersion(buf, "0.1.0")
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run, want 0", allocs)
	}
}
