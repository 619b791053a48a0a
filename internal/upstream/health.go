package upstream

import (
	"bufio"
	"bytes"
	"time"

	"go.uber.org/zap"
)

// recordSuccess notes a reply from the node.
func (s *Server) recordSuccess() {
	if s.failures.Load() != 0 {
		s.failures.Store(0)
	}
}

// recordFailure notes a failed request or dial; enough of them in a row mark
// the node down and start probing it.
func (s *Server) recordFailure(k Kind) {
	if s.opts.FailureLimit <= 0 {
		return
	}
	n := s.failures.Add(1)
	if int(n) < s.opts.FailureLimit || !s.up.Load() {
		return
	}
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	if !s.up.CompareAndSwap(true, false) {
		return
	}
	s.log.Warn("server down", zap.String("cause", k.String()), zap.Int32("consecutive_failures", n))
	if s.opts.OnState != nil {
		s.opts.OnState(false)
	}
	if s.probing.CompareAndSwap(false, true) {
		s.wg.Add(1)
		go s.probe()
	}
}

// markUp restores a node: after a successful probe, or for a retry with
// live requests (retry). Its connections waiting to reconnect dial at once.
func (s *Server) markUp(retry bool) {
	s.failures.Store(0)
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	if !s.up.CompareAndSwap(false, true) {
		return
	}
	for _, c := range s.conns {
		c.wakeDialer()
	}
	if retry {
		s.log.Info("server retried", zap.Duration("down_for", s.opts.RetryAfter))
	} else {
		s.log.Info("server up")
	}
	if s.opts.OnState != nil {
		s.opts.OnState(true)
	}
}

// probe runs while the node is down: every ProbeInterval it asks the node for
// its version, and marks it up as soon as it answers. The first probe comes
// one interval after the node went down, so a node that answers probes but
// fails requests goes down and up at most once per interval. With
// RetryAfter, the node is also marked up once it has been down that long.
// probe ends then, or when the server is closed.
func (s *Server) probe() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.ProbeInterval)
	defer t.Stop()
	var retry <-chan time.Time
	if s.opts.RetryAfter > 0 {
		rt := time.NewTimer(s.opts.RetryAfter)
		defer rt.Stop()
		retry = rt.C
	}
	for {
		var retrying bool
		select {
		case <-s.stop:
			s.probing.Store(false)
			return
		case <-t.C:
		case <-retry:
			retrying = true
		}
		if retrying || s.answersVersion() {
			// Cleared first: a failure right after markUp must be able to
			// start the next prober.
			s.probing.Store(false)
			s.markUp(retrying)
			return
		}
	}
}

// answersVersion dials the node afresh and checks that it answers "version"
// within the timeout.
func (s *Server) answersVersion() bool {
	nc, err := s.dial()
	if err != nil {
		return false
	}
	defer nc.Close()
	if err := nc.SetDeadline(time.Now().Add(s.opts.Timeout)); err != nil {
		return false
	}
	if _, err := nc.Write([]byte("version\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReaderSize(nc, 256).ReadSlice('\n')
	return err == nil && bytes.HasPrefix(line, []byte("VERSION "))
}
