package proxy

// waitIdle, when the request parser has nothing buffered and the last read
// emptied the socket, gives the parser's buffer back and waits until the
// client sends more (or hangs up), so that an idle connection holds no read
// buffer: at 10,000 idle connections the buffers would be most of the
// proxy's memory. It returns the read deadline's error (idle timeout,
// shutdown) or the connection's.
func (c *clientConn) waitIdle() error {
	if !c.in.drained || !c.rd.Release() {
		return nil
	}
	return c.nc.WaitReadable()
}
