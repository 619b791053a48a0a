package discovery

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"testing"

	"hashproxy/internal/config"
	"hashproxy/internal/testenv"
)

// pool returns a pool with the given lookups that asks d.
func pool(d *testenv.DNS, entries ...string) config.Pool {
	p := config.DefaultPool()
	p.DiscoveryResolver = d.Addr
	for _, e := range entries {
		if err := p.AddServer(e); err != nil {
			panic(err)
		}
	}
	return p
}

// srv is the node at ip:port named name.
func srv(ip string, port, weight int, name string) config.Server {
	s, err := config.ParseServer(ip + ":" + strconv.Itoa(port))
	if err != nil {
		panic(err)
	}
	s.Weight, s.Name = weight, name
	return s
}

func TestResolveDNS(t *testing.T) {
	d := testenv.StartDNS(t)
	d.Set(t, "nodes.test", "A 10.0.0.3", "A 10.0.0.1", "AAAA ::2")
	got, err := NewResolver(d.Addr).Resolve(context.Background(), pool(d, "dns+nodes.test:11211:2"))
	if err != nil {
		t.Fatal(err)
	}
	want := []config.Server{
		srv("10.0.0.1", 11211, 2, ""),
		srv("10.0.0.3", 11211, 2, ""),
		srv("[::2]", 11211, 2, ""),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

// TestResolveSRV checks that each SRV target is a node named by its host
// name, on the record's port, at its address.
func TestResolveSRV(t *testing.T) {
	d := testenv.StartDNS(t)
	d.Set(t, "_memcache._tcp.mc.test", "SRV 0 50 11212 mc-1.mc.test.", "SRV 10 50 11211 mc-0.mc.test.")
	d.Set(t, "mc-0.mc.test", "A 10.0.0.9")
	d.Set(t, "mc-1.mc.test", "A 10.0.0.8", "AAAA ::8")
	got, err := NewResolver(d.Addr).Resolve(context.Background(), pool(d, "dnssrv+_memcache._tcp.mc.test"))
	if err != nil {
		t.Fatal(err)
	}
	want := []config.Server{
		srv("10.0.0.9", 11211, 1, "mc-0.mc.test"),
		srv("10.0.0.8", 11212, 1, "mc-1.mc.test"), // IPv4 before IPv6
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

// TestResolveFailures checks the kind of each failure, and that one
// failing lookup fails the whole pool.
func TestResolveFailures(t *testing.T) {
	d := testenv.StartDNS(t)
	d.Set(t, "nodes.test", "A 10.0.0.1")
	d.Set(t, "nodata.test", "TXT \"no address\"")
	d.Set(t, "_mc._tcp.gone.test", "SRV 0 0 11211 gone.test.")
	tests := []struct {
		name    string
		entries []string
		kind    string
	}{
		{"unknown name", []string{"dns+nodes.test:1", "dns+missing.test:1"}, KindEmpty},
		{"no address records", []string{"dns+nodata.test:1"}, KindEmpty},
		{"srv target without address", []string{"dnssrv+_mc._tcp.gone.test"}, KindEmpty},
		{"unknown srv name", []string{"dnssrv+_mc._tcp.missing.test"}, KindEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewResolver(d.Addr).Resolve(context.Background(), pool(d, tt.entries...))
			var de *Error
			if !errors.As(err, &de) || de.Kind != tt.kind {
				t.Fatalf("got %+v, %v; want an error of kind %s", got, err, tt.kind)
			}
		})
	}
	d.SetFailing(true)
	got, err := NewResolver(d.Addr).Resolve(context.Background(), pool(d, "dns+nodes.test:1"))
	if kindOf(err) != KindLookup || got != nil {
		t.Errorf("SERVFAIL: got %+v, %v; want an error of kind %s", got, err, KindLookup)
	}
}
