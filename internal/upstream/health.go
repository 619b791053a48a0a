package upstream

import (
	"bufio"
	"bytes"
	"net"
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
	if int(n) < s.opts.FailureLimit || !s.up.CompareAndSwap(true, false) {
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

// markUp restores a node after a successful probe.
func (s *Server) markUp() {
	s.failures.Store(0)
	if s.up.CompareAndSwap(false, true) {
		s.log.Info("server up")
		if s.opts.OnState != nil {
			s.opts.OnState(true)
		}
	}
}

// probe runs while the node is down: every ProbeInterval it asks the node for
// its version, and marks it up as soon as it answers. It ends then, or when
// the server is closed.
func (s *Server) probe() {
	defer s.wg.Done()
	defer s.probing.Store(false)
	t := time.NewTicker(s.opts.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		if s.answersVersion() {
			s.markUp()
			return
		}
	}
}

// answersVersion dials the node afresh and checks that it answers "version"
// within the timeout.
func (s *Server) answersVersion() bool {
	nc, err := net.DialTimeout("tcp", s.opts.Addr, s.opts.Timeout)
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
