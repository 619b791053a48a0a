package proxy

import "io"

// countingWriter counts the bytes written to the client.
type countingWriter struct {
	w io.Writer
	n int
}

func (cw *countingWriter) Write(b []byte) (int, error) {
	n, err := cw.w.Write(b)
	cw.n += n
	return n, err
}

// countingReader counts the bytes read from a client, for the connection
// (n) and into its pool's metrics.
type countingReader struct {
	r io.Reader
	p *pool
	n int64 // bytes read
	// drained says the last read returned less than asked for: it emptied
	// the socket, so new data will wake the poller.
	drained bool
}

func (cr *countingReader) Read(b []byte) (int, error) {
	n, err := cr.r.Read(b)
	cr.drained = n < len(b)
	cr.n += int64(n)
	if n > 0 {
		cr.p.m.BytesIn.Add(uint64(n))
	}
	return n, err
}
