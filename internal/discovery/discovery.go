// Package discovery fills in the nodes of pools whose servers are lookups
// instead of addresses: "dns+" (A/AAAA records), "dnssrv+" (SRV records)
// and an ElastiCache configuration endpoint. A Source resolves them at
// start, asks again every discovery_interval, and applies a changed list,
// once it has been seen twice in a row, as a reload of the whole
// configuration with that pool's new nodes. A failed lookup, or one that
// finds no node, keeps the last good list.
package discovery

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"time"

	"hashproxy/internal/config"
)

// Kinds of lookup failure, the kind label of
// hashproxy_discovery_errors_total.
const (
	// KindLookup is a lookup that got no answer: a DNS error or timeout,
	// or a configuration endpoint that could not be reached.
	KindLookup = "lookup"
	// KindEmpty is a lookup answered with no node.
	KindEmpty = "empty"
	// KindInvalid is an answer that could not be read.
	KindInvalid = "invalid"
)

// lookupTimeout bounds one round of a pool's lookups.
const lookupTimeout = 5 * time.Second

// Error is a failed lookup.
type Error struct {
	// Kind is KindLookup, KindEmpty or KindInvalid.
	Kind string
	// Lookup is the lookup that failed.
	Lookup config.Lookup
	// Err says why.
	Err error
}

func (e *Error) Error() string {
	return fmt.Sprintf("discovery: %s: %v", e.Lookup, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// kindOf returns the kind of a lookup error, KindLookup when it is not an
// *Error.
func kindOf(err error) string {
	var de *Error
	if errors.As(err, &de) {
		return de.Kind
	}
	return KindLookup
}

// Resolver asks a pool's lookups.
type Resolver struct {
	dns    *net.Resolver
	dialer *net.Dialer
}

// NewResolver returns a resolver that asks the DNS server at addr
// ("ip:port", over UDP and, for long answers, TCP), or the system's
// resolver when addr is "".
func NewResolver(addr string) *Resolver {
	r := &Resolver{dns: net.DefaultResolver}
	if addr != "" {
		var d net.Dialer
		r.dns = &net.Resolver{
			PreferGo: true,
			Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, addr)
			},
		}
	}
	r.dialer = &net.Dialer{Resolver: r.dns}
	return r
}

// Resolve asks every lookup of pool once and returns the nodes they found,
// sorted by name then address, each once. Any lookup that fails or finds
// no node fails the whole call with an *Error: a partial list would move
// keys that have not moved.
func (r *Resolver) Resolve(ctx context.Context, pool config.Pool) ([]config.Server, error) {
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	var out []config.Server
	for _, l := range pool.Lookups {
		var (
			found []config.Server
			err   error
		)
		switch l.Kind {
		case config.LookupDNS:
			found, err = r.lookupA(ctx, l)
		case config.LookupSRV:
			found, err = r.lookupSRV(ctx, l)
		case config.LookupElastiCache:
			found, err = r.askElastiCache(ctx, l)
		default:
			err = &Error{Kind: KindInvalid, Lookup: l, Err: errors.New("unknown kind of lookup")}
		}
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, &Error{Kind: KindEmpty, Lookup: l, Err: errors.New("no node found")}
		}
		out = append(out, found...)
	}
	sortServers(out)
	return slices.Compact(out), nil
}

// sortServers orders servers by name, then address.
func sortServers(s []config.Server) {
	slices.SortFunc(s, func(a, b config.Server) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Addr, b.Addr))
	})
}
