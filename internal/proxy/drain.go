package proxy

import (
	"context"
	"time"
)

// stopReading makes every client connection stop reading requests; each
// then finishes the requests it has read, writes their replies and closes.
func (p *pool) stopReading() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.draining = true
	for c := range p.clients {
		c.stopReading()
	}
}

// closeClients closes every client connection at once.
func (p *pool) closeClients() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.clients {
		_ = c.nc.Close()
	}
}

// drain ends the pool once its listener is closed: it lets every client
// connection finish the requests it has sent and receive their replies,
// then closes the upstream servers. When ctx ends first, the remaining
// client connections are closed at once and ctx's error is returned.
func (p *pool) drain(ctx context.Context) error {
	p.stopReading()
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		p.closeClients()
		<-done
	}
	p.closeNodes()
	return err
}

// closeNodes closes every upstream server, waiting for their goroutines.
func (p *pool) closeNodes() {
	for _, n := range p.conf.Load().nodes {
		n.srv.Close()
	}
}

// Once the proxy shuts down (or a reload removes its pool), a client
// connection reads every request that had arrived when it noticed the stop
// (read already, or waiting in the socket), however long that takes: the
// client sent them before the stop, and closing a socket with unread data
// resets it, which can also lose replies already written. After those, it
// goes on reading while requests keep arriving without a pause of
// stopPause, until stopGrace after the stop. Then it stops reading, writes
// the replies to what it has read, and closes. The drain timeout bounds it
// all.
const (
	stopPause = 10 * time.Millisecond
	stopGrace = time.Second
)

// stopReading makes the reader stop (see stopGrace); replies to what it has
// read are still written.
func (c *clientConn) stopReading() {
	now := time.Now()
	c.stopAt.Store(now.UnixNano())
	_ = c.nc.SetReadDeadline(now.Add(stopPause))
}

// stopping reports whether the reader must stop. While the connection
// drains, it also sets the read deadline that ends the next read: a pause,
// or, while requests that had arrived before the stop are left, stopGrace
// (they are in the socket, so a read does not wait for them; the deadline
// only ends a request cut off by the stop). It runs after the idle deadline
// is set, and stopReading sets its deadline after stopAt, so a stop always
// overrides an idle deadline.
func (c *clientConn) stopping() bool {
	at := c.stopAt.Load()
	if at == 0 {
		return false
	}
	if c.sentBefore < 0 {
		c.sentBefore = c.in.n + int64(c.nc.Unread())
	}
	now := time.Now()
	if c.in.n-int64(c.rd.Buffered()) < c.sentBefore {
		_ = c.nc.SetReadDeadline(now.Add(stopGrace))
		return false
	}
	if now.Sub(time.Unix(0, at)) > stopGrace {
		return true
	}
	_ = c.nc.SetReadDeadline(now.Add(stopPause))
	return false
}
