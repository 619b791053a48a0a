package config

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// ParseServer parses a server written as "host:port[:weight] [name]" or,
// for a Unix socket, "/path[:weight] [name]", the forms of twemproxy's
// servers list (where the weight is required). IPv6 hosts go in brackets:
// "[::1]:11211:1". A missing weight is 1. Ranges are checked by Validate,
// not here.
func ParseServer(s string) (Server, error) {
	srv, err := parseServer(s)
	if err != nil {
		return Server{}, fmt.Errorf("config: %w", err)
	}
	return srv, nil
}

// parseServer is ParseServer with errors that are not package-prefixed, for
// problems that already say where they are.
func parseServer(s string) (Server, error) {
	addr, name, hasName := strings.Cut(strings.TrimSpace(s), " ")
	if hasName {
		name = strings.TrimSpace(name)
		if name == "" || strings.ContainsAny(name, " \t") {
			return Server{}, fmt.Errorf("server %q: want \"host:port:weight [name]\" with a name without spaces", s)
		}
	}
	if strings.HasPrefix(addr, "/") {
		return parseSocketServer(s, addr, name)
	}
	weight := 1
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		i := strings.LastIndexByte(addr, ':')
		if i < 0 {
			return Server{}, fmt.Errorf("server %q: want \"host:port:weight [name]\"", s)
		}
		w, werr := strconv.Atoi(addr[i+1:])
		if werr != nil {
			return Server{}, fmt.Errorf("server %q: weight %q is not a number", s, addr[i+1:])
		}
		weight = w
		host, port, err = net.SplitHostPort(addr[:i])
		if err != nil {
			return Server{}, fmt.Errorf("server %q: %w", s, addrError(err))
		}
	}
	if !validHost(host) {
		return Server{}, fmt.Errorf("server %q: host %q is neither an IP address nor a host name", s, host)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return Server{}, fmt.Errorf("server %q: port %q is not a number", s, port)
	}
	return Server{
		Addr:   net.JoinHostPort(host, strconv.Itoa(p)),
		Host:   host,
		Port:   p,
		Weight: weight,
		Name:   name,
	}, nil
}

// parseSocketServer parses the address part of a server on a Unix socket,
// "/path[:weight]", as twemproxy writes it ("/path:weight [name]").
func parseSocketServer(s, addr, name string) (Server, error) {
	path, w, hasWeight := strings.Cut(addr, ":")
	weight := 1
	if hasWeight {
		n, err := strconv.Atoi(w)
		if err != nil {
			return Server{}, fmt.Errorf("server %q: weight %q is not a number (a socket path may not contain ':')", s, w)
		}
		weight = n
	}
	return Server{Addr: path, Weight: weight, Name: name}, nil
}

// validHost reports whether host is empty (this machine), an IP address,
// or a host name: letters, digits, '-', '_' and '.'.
func validHost(host string) bool {
	if host == "" || net.ParseIP(host) != nil {
		return true
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// addrError strips the address that *net.AddrError repeats, since the
// message around it already quotes the address.
func addrError(err error) error {
	var ae *net.AddrError
	if errors.As(err, &ae) {
		return errors.New(ae.Err)
	}
	return err
}

// IsUnix reports whether the server is reached over a Unix socket: its
// Addr is then the socket's path, and Host and Port are empty.
func (s Server) IsUnix() bool { return strings.HasPrefix(s.Addr, "/") }
