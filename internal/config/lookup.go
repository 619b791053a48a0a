package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Kinds of Lookup.
const (
	// LookupDNS is a "dns+HOST:PORT[:WEIGHT]" server entry: every A and
	// AAAA address of HOST is a node on PORT.
	LookupDNS = "dns"
	// LookupSRV is a "dnssrv+NAME[:WEIGHT]" server entry: every SRV target
	// of NAME is a node on the record's port, named by the target's host
	// name.
	LookupSRV = "dnssrv"
	// LookupElastiCache is a pool's "elasticache: HOST:PORT" key: the nodes
	// are those the ElastiCache configuration endpoint lists.
	LookupElastiCache = "elasticache"
)

// Lookup is a source of a pool's nodes that is asked again every
// discovery_interval, instead of an address written in the file.
type Lookup struct {
	// Kind is LookupDNS, LookupSRV or LookupElastiCache.
	Kind string
	// Host is the name asked: the A/AAAA name, the SRV name, or the
	// configuration endpoint's host.
	Host string
	// Port is the nodes' port for LookupDNS, the endpoint's port for
	// LookupElastiCache, and 0 for LookupSRV (each record has its own).
	Port int
	// Weight is the weight of every node found.
	Weight int
}

// String returns the lookup as it is written in a configuration file.
func (l Lookup) String() string {
	switch l.Kind {
	case LookupDNS:
		return "dns+" + net.JoinHostPort(l.Host, strconv.Itoa(l.Port)) + ":" + strconv.Itoa(l.Weight)
	case LookupSRV:
		return "dnssrv+" + l.Host + ":" + strconv.Itoa(l.Weight)
	default:
		return l.Kind + ": " + net.JoinHostPort(l.Host, strconv.Itoa(l.Port))
	}
}

// isLookup reports whether a servers entry names a lookup rather than an
// address.
func isLookup(s string) bool {
	s = strings.TrimSpace(s)
	return strings.HasPrefix(s, "dns+") || strings.HasPrefix(s, "dnssrv+")
}

// AddServer adds one entry of a servers list to the pool, read as the
// configuration file reads it: an address ("host:port[:weight] [name]",
// "/path[:weight] [name]") goes to Servers, a lookup
// ("dns+HOST:PORT[:WEIGHT]", "dnssrv+NAME[:WEIGHT]") to Lookups. Ranges
// are checked by Validate, not here.
func (p *Pool) AddServer(entry string) error {
	srv, l, lookup, err := parseEntry(entry)
	switch {
	case err != nil:
		return fmt.Errorf("config: %w", err)
	case lookup:
		p.Lookups = append(p.Lookups, l)
	default:
		p.Servers = append(p.Servers, srv)
	}
	return nil
}

// parseEntry parses one entry of a servers list: an address, or, when
// lookup is true, a lookup.
func parseEntry(entry string) (srv Server, l Lookup, lookup bool, err error) {
	if isLookup(entry) {
		l, err = parseLookup(entry)
		return Server{}, l, true, err
	}
	srv, err = parseServer(entry)
	return srv, Lookup{}, false, err
}

// parseLookup parses a servers entry that names a lookup:
// "dns+HOST:PORT[:WEIGHT]" or "dnssrv+NAME[:WEIGHT]". A missing weight is
// 1. Ranges are checked by Validate, not here.
func parseLookup(s string) (Lookup, error) {
	entry := strings.TrimSpace(s)
	if strings.ContainsAny(entry, " \t") {
		return Lookup{}, fmt.Errorf("server %q: a discovered node is named by the lookup, not in the entry: leave out the name", s)
	}
	if rest, ok := strings.CutPrefix(entry, "dnssrv+"); ok {
		name, weight, err := cutWeight(s, rest)
		if err != nil {
			return Lookup{}, err
		}
		if name == "" || !validHost(name) || net.ParseIP(name) != nil {
			return Lookup{}, fmt.Errorf("server %q: want \"dnssrv+_service._proto.name[:weight]\"", s)
		}
		return Lookup{Kind: LookupSRV, Host: name, Weight: weight}, nil
	}
	rest, ok := strings.CutPrefix(entry, "dns+")
	if !ok {
		return Lookup{}, fmt.Errorf("server %q: want \"dns+host:port[:weight]\" or \"dnssrv+name[:weight]\"", s)
	}
	weight := 1
	host, port, err := net.SplitHostPort(rest)
	if err != nil {
		var addr string
		addr, weight, err = cutWeight(s, rest)
		if err != nil {
			return Lookup{}, err
		}
		if host, port, err = net.SplitHostPort(addr); err != nil {
			return Lookup{}, fmt.Errorf("server %q: want \"dns+host:port[:weight]\": %w", s, addrError(err))
		}
	}
	if host == "" || !validHost(host) {
		return Lookup{}, fmt.Errorf("server %q: host %q is not a host name", s, host)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return Lookup{}, fmt.Errorf("server %q: port %q is not a number", s, port)
	}
	return Lookup{Kind: LookupDNS, Host: host, Port: p, Weight: weight}, nil
}

// cutWeight splits an optional ":weight" off the end of rest, returning 1
// when there is none.
func cutWeight(entry, rest string) (string, int, error) {
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return rest, 1, nil
	}
	w, err := strconv.Atoi(rest[i+1:])
	if err != nil {
		return "", 0, fmt.Errorf("server %q: weight %q is not a number", entry, rest[i+1:])
	}
	return rest[:i], w, nil
}

// parseEndpoint parses an elasticache key's "host:port".
func parseEndpoint(s string) (Lookup, error) {
	host, port, err := net.SplitHostPort(strings.TrimSpace(s))
	if err != nil {
		return Lookup{}, fmt.Errorf("elasticache: %q: want the configuration endpoint as host:port: %w", s, addrError(err))
	}
	if host == "" || !validHost(host) {
		return Lookup{}, fmt.Errorf("elasticache: %q: host %q is not a host name", s, host)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return Lookup{}, fmt.Errorf("elasticache: %q: port %q is not a number", s, port)
	}
	return Lookup{Kind: LookupElastiCache, Host: host, Port: p, Weight: 1}, nil
}
