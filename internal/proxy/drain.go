package proxy

import "context"

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
