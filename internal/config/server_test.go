package config

import (
	"strings"
	"testing"
)

func TestParseServer(t *testing.T) {
	tests := []struct {
		in   string
		want Server
		err  string // substring of the error; "" for success
	}{
		{in: "127.0.0.1:11211:1", want: Server{Addr: "127.0.0.1:11211", Host: "127.0.0.1", Port: 11211, Weight: 1}},
		{in: "127.0.0.1:11211", want: Server{Addr: "127.0.0.1:11211", Host: "127.0.0.1", Port: 11211, Weight: 1}},
		{in: "cache.example:11211:5 cache-1", want: Server{Addr: "cache.example:11211", Host: "cache.example", Port: 11211, Weight: 5, Name: "cache-1"}},
		{in: "  10.0.0.1:1:2   n  ", want: Server{Addr: "10.0.0.1:1", Host: "10.0.0.1", Port: 1, Weight: 2, Name: "n"}},
		{in: "[::1]:11211:3", want: Server{Addr: "[::1]:11211", Host: "::1", Port: 11211, Weight: 3}},
		{in: "[::1]:11211", want: Server{Addr: "[::1]:11211", Host: "::1", Port: 11211, Weight: 1}},
		{in: "h:011211:1", want: Server{Addr: "h:11211", Host: "h", Port: 11211, Weight: 1}},
		// Ranges are Validate's job: these parse.
		{in: "h:0:0", want: Server{Addr: "h:0", Host: "h", Port: 0, Weight: 0}},
		{in: "h:99999:-1", want: Server{Addr: "h:99999", Host: "h", Port: 99999, Weight: -1}},
		{in: "", err: `want "host:port:weight [name]"`},
		{in: "localhost", err: `want "host:port:weight [name]"`},
		{in: "h:1:x", err: `weight "x" is not a number`},
		{in: "h:1:", err: `weight "" is not a number`},
		{in: "h:p:1", err: `port "p" is not a number`},
		{in: "h:1:1 a b", err: "name without spaces"},
		{in: "::1:11211:1", err: "too many colons"},
		{in: "/tmp/mc.sock:1", want: Server{Addr: "/tmp/mc.sock", Weight: 1}},
		{in: "/tmp/mc.sock:3 mc-1", want: Server{Addr: "/tmp/mc.sock", Weight: 3, Name: "mc-1"}},
		{in: "/tmp/mc.sock", want: Server{Addr: "/tmp/mc.sock", Weight: 1}},
		{in: "/tmp/mc.sock:x", err: `weight "x" is not a number (a socket path may not contain ':')`},
		{in: "/tmp/a:b:1", err: `weight "b:1" is not a number`},
	}
	for _, tt := range tests {
		got, err := ParseServer(tt.in)
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("ParseServer(%q): %v", tt.in, err)
		case tt.err == "" && got != tt.want:
			t.Errorf("ParseServer(%q) = %+v, want %+v", tt.in, got, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "config: ")):
			t.Errorf("ParseServer(%q) = %+v, %v; want error with %q", tt.in, got, err, tt.err)
		}
	}
}
