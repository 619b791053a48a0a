package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"go.uber.org/zap"

	"hashproxy/internal/config"
	"hashproxy/internal/sockio"
)

// replyTooManyConns is memcached's answer when it is at its connection limit.
var replyTooManyConns = []byte("ERROR Too many open connections\r\n")

// serve accepts clients on ln until it is closed.
func (p *pool) serve(ln net.Listener) {
	defer p.wg.Done()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait, then retry.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			p.log.Warn("accept failed", zap.Error(err), zap.Duration("retry_in", backoff))
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		p.accept(nc)
	}
}

// startServing makes ln the pool's listener and starts accepting on it. The
// caller holds the Proxy's mu.
func (p *pool) startServing(ln net.Listener) {
	p.ln = ln
	p.wg.Add(1)
	go p.serve(ln)
}

// stopAccepting closes ln, one of the pool's listeners, after taking the
// connections waiting in its backlog: their clients have connected and may
// have sent requests, which are then answered as on any connection, where
// closing would reset them.
func (p *pool) stopAccepting(ln net.Listener) {
	for _, nc := range sockio.TakeBacklog(ln) {
		p.accept(nc)
	}
	_ = ln.Close()
}

// accept starts serving one client, or turns it away at the connection
// limit.
func (p *pool) accept(nc net.Conn) {
	if limit := p.conf.Load().cfg.ClientConnections; limit > 0 && p.nclients.Load() >= int64(limit) {
		p.m.Rejected.Add(1)
		if p.clientTLS.Load() == nil { // a TLS client could not read it
			_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = nc.Write(replyTooManyConns)
		}
		_ = nc.Close()
		return
	}
	p.m.Accepted.Add(1)
	p.m.ClientConnections.Inc()
	p.nclients.Add(1)
	p.stats.totalConns.Add(1)
	c := newClientConn(p, p.clientSide(nc))
	p.mu.Lock()
	p.clients[c] = struct{}{}
	if p.draining {
		// Accepted just as the pool began shutting down: it reads nothing
		// and closes.
		c.stopReading()
	}
	p.mu.Unlock()
	p.wg.Add(1)
	go c.serve()
}

// forget is called by a client connection when it has ended.
func (p *pool) forget(c *clientConn) {
	p.mu.Lock()
	delete(p.clients, c)
	p.mu.Unlock()
	p.nclients.Add(-1)
	p.m.ClientConnections.Dec()
}

// listen opens the listener of a pool: TCP, or a Unix socket.
func listen(pc config.Pool) (net.Listener, error) {
	la, err := config.ParseListen(pc.Listen)
	if err != nil {
		return nil, fmt.Errorf("proxy: pool %q: %w", pc.Name, err)
	}
	var ln net.Listener
	if la.Network == "unix" {
		ln, err = listenUnix(la)
	} else {
		lc := net.ListenConfig{}
		ln, err = lc.Listen(context.Background(), "tcp", la.Address)
	}
	if err != nil {
		return nil, fmt.Errorf("proxy: pool %q: listen %s: %w", pc.Name, la.Address, err)
	}
	return ln, nil
}

// closeListeners closes listeners that were opened for nothing.
func closeListeners(lns []net.Listener) {
	for _, ln := range lns {
		_ = ln.Close()
	}
}
