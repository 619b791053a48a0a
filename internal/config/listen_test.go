package config

import (
	"io/fs"
	"strings"
	"testing"
)

func TestParseListen(t *testing.T) {
	tests := []struct {
		in   string
		want ListenAddr
		err  string // substring of the error; "" for success
	}{
		{in: "127.0.0.1:22122", want: ListenAddr{Network: "tcp", Address: "127.0.0.1:22122"}},
		{in: ":0", want: ListenAddr{Network: "tcp", Address: ":0"}},
		{in: "/tmp/gamma", want: ListenAddr{Network: "unix", Address: "/tmp/gamma"}},
		{in: "/var/run/nutcracker.sock 0666", want: ListenAddr{Network: "unix", Address: "/var/run/nutcracker.sock", Mode: 0o666}},
		{in: "/s 600", want: ListenAddr{Network: "unix", Address: "/s", Mode: fs.FileMode(0o600)}},
		{in: "", err: "missing"},
		{in: "/s 0888", err: `mode "0888" is not octal`},
		{in: "/s 1000", err: `mode "1000" is not octal`},
		{in: "/s -1", err: `mode "-1" is not octal`},
		{in: "/a:b", err: "may not contain ':'"},
		{in: "/dir/", err: "names a file, not a directory"},
		{in: "/" + strings.Repeat("p", maxSocketPath), err: "more than the system's 107"},
		{in: "localhost", err: "missing port"},
		{in: "h:70000", err: "not a number in [0, 65535]"},
	}
	for _, tt := range tests {
		got, err := ParseListen(tt.in)
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("ParseListen(%q): %v", tt.in, err)
		case tt.err == "" && got != tt.want:
			t.Errorf("ParseListen(%q) = %+v, want %+v", tt.in, got, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "config: ")):
			t.Errorf("ParseListen(%q) = %+v, %v; want error with %q", tt.in, got, err, tt.err)
		}
	}
}

// TestParseUnixSockets reads a nutcracker.yml whose pool listens on a
// socket and reaches its nodes over sockets, as twemproxy writes them.
func TestParseUnixSockets(t *testing.T) {
	cfg, err := Parse("f", []byte("a:\n  listen: /tmp/hp.sock 0660\n  servers:\n   - /tmp/mc1.sock:1\n   - /tmp/mc2.sock:2 two\n"))
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Pools[0]
	want := []Server{{Addr: "/tmp/mc1.sock", Weight: 1}, {Addr: "/tmp/mc2.sock", Weight: 2, Name: "two"}}
	if p.Listen != "/tmp/hp.sock 0660" || len(p.Servers) != 2 || p.Servers[0] != want[0] || p.Servers[1] != want[1] {
		t.Errorf("listen %q servers %+v", p.Listen, p.Servers)
	}
	if !p.Servers[0].IsUnix() {
		t.Error("IsUnix false for a socket path")
	}
}

func FuzzParseListen(f *testing.F) {
	for _, s := range []string{"127.0.0.1:22122", ":0", "/tmp/gamma", "/s 0666", "/s 0888", "/a:b", "/ ", "[::1]:1", "/s 0666 x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseListen(s)
		if err != nil {
			return
		}
		switch a.Network {
		case "unix":
			if !strings.HasPrefix(a.Address, "/") || a.Mode > 0o777 || socketPathProblem(a.Address) != "" {
				t.Fatalf("ParseListen(%q) = %+v", s, a)
			}
		case "tcp":
			if a.Address != s || a.Mode != 0 {
				t.Fatalf("ParseListen(%q) = %+v", s, a)
			}
		default:
			t.Fatalf("ParseListen(%q): network %q", s, a.Network)
		}
	})
}
