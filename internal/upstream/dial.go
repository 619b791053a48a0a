package upstream

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
)

// HandshakeError is a TLS handshake with a node that failed: a
// certificate the pool does not trust, a wrong name, an expired
// certificate, or a node that does not speak TLS.
type HandshakeError struct {
	Addr string
	Err  error
}

func (e *HandshakeError) Error() string {
	return fmt.Sprintf("upstream: TLS handshake with %s: %v", e.Addr, e.Err)
}

func (e *HandshakeError) Unwrap() error { return e.Err }

// dial connects to the node: "host:port" over TCP, or a path (it starts
// with '/') over a Unix socket, then, when the options give a TLS
// configuration, completes a TLS handshake, all within the timeout. A
// failed handshake returns a *HandshakeError.
func (s *Server) dial() (net.Conn, error) {
	network := "tcp"
	if strings.HasPrefix(s.opts.Addr, "/") {
		network = "unix"
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, s.opts.Addr)
	if err != nil || s.opts.TLS == nil {
		return nc, err
	}
	cfg := s.opts.TLS()
	if cfg == nil {
		return nc, nil
	}
	if cfg.ServerName == "" {
		cfg = cfg.Clone()
		cfg.ServerName = s.opts.Addr
		if host, _, err := net.SplitHostPort(s.opts.Addr); err == nil {
			cfg.ServerName = host
		}
	}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = nc.Close()
		return nil, &HandshakeError{Addr: s.opts.Addr, Err: err}
	}
	return tc, nil
}
