package testenv

import (
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
)

// DNS is a small authoritative DNS server on a loopback UDP port whose
// answers a test sets and changes.
type DNS struct {
	// Addr is the "127.0.0.1:port" it answers on.
	Addr string

	mu      sync.Mutex
	records map[string][]dns.RR // by lower-case absolute name
	failing bool
	held    chan struct{} // while not nil, answers wait until it is closed
	queries atomic.Int64
}

// StartDNS starts a DNS server that knows no name yet, and stops it when
// the test ends. An unknown name is answered NXDOMAIN, a known name without
// records of the type asked is answered with none.
func StartDNS(t testing.TB) *DNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: dns: %v", err)
	}
	d := &DNS{Addr: pc.LocalAddr().String(), records: make(map[string][]dns.RR)}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: d, NotifyStartedFunc: func() { close(started) }}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.ActivateAndServe()
	}()
	<-started
	t.Cleanup(func() {
		_ = srv.Shutdown()
		<-done
	})
	return d
}

// Set replaces the records of name with rrs, each in zone-file form
// without the name and class ("A 127.0.0.2", "SRV 0 0 11211 a.nodes.test.").
// No rrs makes the name unknown again.
func (d *DNS) Set(t testing.TB, name string, rrs ...string) {
	t.Helper()
	name = dns.CanonicalName(name)
	parsed := make([]dns.RR, 0, len(rrs))
	for _, s := range rrs {
		rr, err := dns.NewRR(name + " 1 IN " + s)
		if err != nil {
			t.Fatalf("testenv: dns record %q: %v", s, err)
		}
		parsed = append(parsed, rr)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(parsed) == 0 {
		delete(d.records, name)
		return
	}
	d.records[name] = parsed
}

// SetFailing makes every answer SERVFAIL while on.
func (d *DNS) SetFailing(on bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.failing = on
}

// Hold makes the server keep each answer, from now on, until the function
// it returns is called, or the test ends; the questions are counted in
// Queries when they arrive. A test uses it to act while the program asking
// is waiting for an answer.
func (d *DNS) Hold(t testing.TB) (release func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	held := make(chan struct{})
	d.held = held
	var once sync.Once
	release = func() {
		once.Do(func() {
			d.mu.Lock()
			defer d.mu.Unlock()
			d.held = nil
			close(held)
		})
	}
	t.Cleanup(release)
	return release
}

// Queries returns the number of questions answered so far.
func (d *DNS) Queries() int64 { return d.queries.Load() }

// ServeDNS answers one query from the records set.
func (d *DNS) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	d.queries.Add(1)
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	d.mu.Lock()
	if held := d.held; held != nil {
		d.mu.Unlock()
		<-held
		d.mu.Lock()
	}
	switch {
	case d.failing:
		m.Rcode = dns.RcodeServerFailure
	case len(req.Question) != 1:
		m.Rcode = dns.RcodeFormatError
	default:
		q := req.Question[0]
		rrs, ok := d.records[strings.ToLower(q.Name)]
		if !ok {
			m.Rcode = dns.RcodeNameError
		}
		for _, rr := range rrs {
			if rr.Header().Rrtype == q.Qtype {
				m.Answer = append(m.Answer, dns.Copy(rr))
			}
		}
	}
	d.mu.Unlock()
	_ = w.WriteMsg(m)
}
