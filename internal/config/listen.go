package config

import (
	"fmt"
	"io/fs"
	"net"
	"strconv"
	"strings"
)

// maxSocketPath is the longest Unix socket path the system takes
// (sun_path holds 108 bytes with the terminating NUL).
const maxSocketPath = 107

// ListenAddr is a pool's listen address, parsed.
type ListenAddr struct {
	// Network is "tcp", or "unix" for a Unix domain socket.
	Network string
	// Address is "host:port", or the socket's path.
	Address string
	// Mode is the permissions given to the socket file, as twemproxy's
	// "path mode" (e.g. "/var/run/hashproxy.sock 0666"); 0 leaves them as
	// the umask makes them.
	Mode fs.FileMode
}

// ParseListen parses a listen address: "host:port", or a Unix socket's
// absolute path optionally followed by a space and an octal mode, as in
// twemproxy.
func ParseListen(s string) (ListenAddr, error) {
	a, msg := parseListen(s)
	if msg != "" {
		return ListenAddr{}, fmt.Errorf("config: listen %s", msg)
	}
	return a, nil
}

// parseListen is ParseListen with msg saying what is wrong, or "".
func parseListen(s string) (ListenAddr, string) {
	if s == "" {
		return ListenAddr{}, "missing"
	}
	if !strings.HasPrefix(s, "/") {
		if _, _, msg := splitListen(s); msg != "" {
			return ListenAddr{}, msg
		}
		return ListenAddr{Network: "tcp", Address: s}, ""
	}
	path, mode, hasMode := strings.Cut(s, " ")
	a := ListenAddr{Network: "unix", Address: path}
	if msg := socketPathProblem(path); msg != "" {
		return ListenAddr{}, fmt.Sprintf("%q: %s", s, msg)
	}
	if hasMode {
		m, err := strconv.ParseUint(strings.TrimSpace(mode), 8, 32)
		if err != nil || m > 0o777 {
			return ListenAddr{}, fmt.Sprintf("%q: mode %q is not octal permissions such as 0666", s, strings.TrimSpace(mode))
		}
		a.Mode = fs.FileMode(m)
	}
	return a, ""
}

// socketPathProblem says what is wrong with a Unix socket path, or "".
func socketPathProblem(path string) string {
	switch {
	case len(path) > maxSocketPath:
		return fmt.Sprintf("socket path is %d bytes, more than the system's %d", len(path), maxSocketPath)
	case strings.ContainsAny(path, ": \t\x00"):
		return "a socket path may not contain ':', spaces or NUL"
	case strings.HasSuffix(path, "/"):
		return "a socket path names a file, not a directory"
	}
	return ""
}

// splitListen parses a TCP listen address; msg says what is wrong with it,
// or is "".
func splitListen(addr string) (host string, port int, msg string) {
	host, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Sprintf("%q: %v", addr, addrError(err))
	}
	port, err = strconv.Atoi(ps)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Sprintf("%q: port %q is not a number in [0, 65535]", addr, ps)
	}
	return strings.ToLower(host), port, ""
}

// anyHost reports whether host means every local address.
func anyHost(host string) bool { return host == "" || host == "0.0.0.0" || host == "::" }
