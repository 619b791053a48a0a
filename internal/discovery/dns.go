package discovery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"hashproxy/internal/config"
)

// lookupA finds the nodes of a "dns+HOST:PORT" lookup: every address of
// HOST, on PORT, known by its address.
func (r *Resolver) lookupA(ctx context.Context, l config.Lookup) ([]config.Server, error) {
	ips, err := r.addrs(ctx, l, l.Host)
	if err != nil {
		return nil, err
	}
	out := make([]config.Server, len(ips))
	for i, ip := range ips {
		out[i] = server(ip, l.Port, l.Weight, "")
	}
	return out, nil
}

// lookupSRV finds the nodes of a "dnssrv+NAME" lookup: one per SRV target,
// on the record's port, named by the target's host name (without the
// final dot), at the target's first address (IPv4 before IPv6). The
// records' priority and weight fields are not used.
func (r *Resolver) lookupSRV(ctx context.Context, l config.Lookup) ([]config.Server, error) {
	_, recs, err := r.dns.LookupSRV(ctx, "", "", l.Host)
	if err != nil {
		return nil, dnsError(l, "SRV", l.Host, err)
	}
	out := make([]config.Server, 0, len(recs))
	for _, rec := range recs {
		ips, err := r.addrs(ctx, l, rec.Target)
		if err != nil {
			return nil, err
		}
		out = append(out, server(ips[0], int(rec.Port), l.Weight, strings.TrimSuffix(rec.Target, ".")))
	}
	return out, nil
}

// addrs returns the addresses of host, IPv4 first, each group sorted.
func (r *Resolver) addrs(ctx context.Context, l config.Lookup, host string) ([]netip.Addr, error) {
	ips, err := r.dns.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, dnsError(l, "A/AAAA", host, err)
	}
	if len(ips) == 0 {
		return nil, &Error{Kind: KindEmpty, Lookup: l, Err: fmt.Errorf("no address for %s", host)}
	}
	for i, ip := range ips {
		ips[i] = ip.Unmap()
	}
	slices.SortFunc(ips, func(a, b netip.Addr) int {
		if a.Is4() != b.Is4() {
			if a.Is4() {
				return -1
			}
			return 1
		}
		return a.Compare(b)
	})
	return slices.Compact(ips), nil
}

// dnsError classifies a resolver error: a name that does not exist, or
// exists without records of the type asked, is an empty answer.
func dnsError(l config.Lookup, qtype, name string, err error) error {
	kind := KindLookup
	var de *net.DNSError
	if errors.As(err, &de) && de.IsNotFound {
		kind = KindEmpty
	}
	return &Error{Kind: kind, Lookup: l, Err: fmt.Errorf("%s lookup of %s: %w", qtype, name, err)}
}

// server makes the node at ip:port.
func server(ip netip.Addr, port, weight int, name string) config.Server {
	host := ip.String()
	return config.Server{
		Addr:   net.JoinHostPort(host, strconv.Itoa(port)),
		Host:   host,
		Port:   port,
		Weight: weight,
		Name:   name,
	}
}
