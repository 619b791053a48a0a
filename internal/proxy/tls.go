package proxy

import (
	"crypto/tls"
	"fmt"
	"net"

	"hashproxy/internal/config"
	"hashproxy/internal/tlsconf"
)

// poolTLS are a pool's TLS configurations, read from its files; nil
// members mean plain connections.
type poolTLS struct {
	up     *tls.Config // to the nodes (tls)
	client *tls.Config // on the listener (client_tls)
}

// loadPoolTLS reads the files of a pool's tls and client_tls sections.
func loadPoolTLS(cfg config.Pool) (poolTLS, error) {
	up, err := tlsconf.Client(cfg.TLS)
	if err != nil {
		return poolTLS{}, fmt.Errorf("proxy: pool %q: %w", cfg.Name, err)
	}
	client, err := tlsconf.Server(cfg.ClientTLS)
	if err != nil {
		return poolTLS{}, fmt.Errorf("proxy: pool %q: %w", cfg.Name, err)
	}
	return poolTLS{up: up, client: client}, nil
}

// setTLS makes t the configurations of the connections made from now on.
func (p *pool) setTLS(t poolTLS) {
	p.upTLS.Store(t.up)
	p.clientTLS.Store(t.client)
}

// clientSide returns nc as the pool's listener serves it: wrapped in TLS
// when client_tls is on, the handshake then done by the connection's first
// read. A plaintext client fails that handshake and is closed.
func (p *pool) clientSide(nc net.Conn) net.Conn {
	if c := p.clientTLS.Load(); c != nil {
		return tls.Server(nc, c)
	}
	return nc
}
