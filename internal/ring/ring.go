// Package ring places keys on memcached nodes: the key hash functions,
// hash tags and distributions of twemproxy (ketama, modula), plus the
// classic md5 ring. A Ring is immutable and safe for concurrent Pick;
// membership changes build a new one.
package ring

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Node is one server as the ring sees it.
type Node struct {
	Addr   string // "host:port", or a Unix socket's path
	Alias  string // optional name from the config line ("host:port:weight alias"); "" if none
	Weight int    // >= 1
}

// Options choose the key hash, the distribution and the hash tag.
type Options struct {
	Hash         string // twemproxy hash names (see HashNames); "" means fnv1a_64; md5_ring ignores it
	Distribution string // "ketama" (default when ""), "modula" or "md5_ring"
	HashTag      string // "" or exactly two bytes, e.g. "{}"
	Replicas     int    // md5_ring points per unit of weight; 0 means 100
	// TwemproxyOrder deals modula's slots to the nodes sorted by name, as
	// twemproxy does with its server list; otherwise they are dealt in the
	// listed order, as gomemcache's ServerList does. Ketama and md5_ring do
	// not depend on the order.
	TwemproxyOrder bool
}

// The distributions.
const (
	Ketama  = "ketama"
	Modula  = "modula"
	MD5Ring = "md5_ring"
)

// Distributions returns the names of the distributions New accepts.
func Distributions() []string { return []string{Ketama, Modula, MD5Ring} }

// DefaultReplicas is the md5_ring points per unit of weight when
// Options.Replicas is 0.
const DefaultReplicas = 100

var errNoNodes = errors.New("ring: no nodes")

// Ring maps keys to nodes. Build it with New.
type Ring struct {
	nodes  []Node
	names  []string // placement name of each node
	kind   string
	hash   HashFunc
	tag    [2]byte
	hasTag bool

	ketama  ketamaRing
	modula  modulaRing
	md5ring md5Ring
}

// New builds a ring over nodes, in their order. It fails when there are no
// nodes, a node has a weight below 1 or an address without a port, two
// nodes share a placement name (ketama and md5_ring, which hash the names),
// the hash, distribution, hash tag or replicas are invalid, or two md5_ring
// points of different nodes collide.
func New(nodes []Node, opts Options) (*Ring, error) {
	if len(nodes) == 0 {
		return nil, errNoNodes
	}
	r := &Ring{nodes: append([]Node(nil), nodes...), kind: opts.Distribution}
	if r.kind == "" {
		r.kind = Ketama
	}
	var err error
	if r.hash, err = Hash(opts.Hash); err != nil {
		return nil, err
	}
	switch len(opts.HashTag) {
	case 0:
	case 2:
		r.tag, r.hasTag = [2]byte{opts.HashTag[0], opts.HashTag[1]}, true
	default:
		return nil, fmt.Errorf("ring: hash tag %q must be exactly two characters", opts.HashTag)
	}
	for i, n := range r.nodes {
		if n.Weight < 1 {
			return nil, fmt.Errorf("ring: node %d (%s): weight %d, want >= 1", i, n.Addr, n.Weight)
		}
		if strings.LastIndexByte(n.Addr, ':') <= 0 && !isSocket(n.Addr) {
			return nil, fmt.Errorf("ring: node %d: address %q is not host:port, nor a socket path", i, n.Addr)
		}
	}
	switch r.kind {
	case Ketama:
		r.names = namesFor(r.nodes, ketamaName)
		if err := uniqueNames(r.names); err != nil {
			return nil, err
		}
		r.ketama = newKetama(r.nodes, r.names)
	case Modula:
		r.names = namesFor(r.nodes, aliasOrAddr)
		order := listedOrder(len(r.nodes))
		if opts.TwemproxyOrder {
			order = twemproxyOrder(namesFor(r.nodes, ketamaName))
		}
		r.modula = newModula(r.nodes, order)
	case MD5Ring:
		if opts.Replicas < 0 {
			return nil, fmt.Errorf("ring: replicas %d, want >= 0 (0 means %d)", opts.Replicas, DefaultReplicas)
		}
		replicas := opts.Replicas
		if replicas == 0 {
			replicas = DefaultReplicas
		}
		r.names = namesFor(r.nodes, aliasOrAddr)
		if err := uniqueNames(r.names); err != nil {
			return nil, err
		}
		if r.md5ring, err = newMD5Ring(r.nodes, r.names, replicas); err != nil {
			return nil, err
		}
	case "random":
		return nil, fmt.Errorf("ring: distribution \"random\" is not supported for a cache, it scatters every key (valid: %s)", strings.Join(Distributions(), ", "))
	default:
		return nil, fmt.Errorf("ring: unknown distribution %q (valid: %s)", r.kind, strings.Join(Distributions(), ", "))
	}
	return r, nil
}

// Pick returns the index, into the nodes given to New, of the node that
// owns key. It does not allocate and is safe for concurrent use.
func (r *Ring) Pick(key []byte) int {
	if len(r.nodes) == 1 {
		return 0
	}
	key = r.tagged(key)
	switch r.kind {
	case Ketama:
		return r.ketama.pick(r.keyHash(key))
	case Modula:
		return r.modula.pick(r.keyHash(key))
	default:
		return r.md5ring.pick(key)
	}
}

// keyHash hashes key as twemproxy does, where an empty key hashes to 0
// whatever the function.
func (r *Ring) keyHash(key []byte) uint32 {
	if len(key) == 0 {
		return 0
	}
	return r.hash(key)
}

// tagged returns the part of key between the first opening tag character
// and the next closing one, when that part is not empty; otherwise key.
func (r *Ring) tagged(key []byte) []byte {
	if !r.hasTag {
		return key
	}
	start := bytes.IndexByte(key, r.tag[0])
	if start < 0 {
		return key
	}
	inner := key[start+1:]
	end := bytes.IndexByte(inner, r.tag[1])
	if end <= 0 {
		return key
	}
	return inner[:end]
}

// Len returns the number of nodes.
func (r *Ring) Len() int { return len(r.nodes) }

// Node returns the i-th node given to New.
func (r *Ring) Node(i int) Node { return r.nodes[i] }

// Name returns node i's name. ketama and md5_ring place a node by hashing
// it: for ketama its alias, else its host when the port is 11211, else
// host:port; for md5_ring its alias, else host:port. modula hashes no name
// and names a node as md5_ring does.
func (r *Ring) Name(i int) string { return r.names[i] }

// Distribution returns the distribution's name.
func (r *Ring) Distribution() string { return r.kind }

// Shares returns each node's share of the hash space, summing to 1; for
// modula, its share of the total weight.
func (r *Ring) Shares() []float64 {
	switch r.kind {
	case Ketama:
		return r.ketama.shares(len(r.nodes))
	case Modula:
		return r.modula.shares(r.nodes)
	default:
		return r.md5ring.shares(len(r.nodes))
	}
}

func namesFor(nodes []Node, name func(Node) string) []string {
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = name(n)
	}
	return names
}

func aliasOrAddr(n Node) string {
	if n.Alias != "" {
		return n.Alias
	}
	return n.Addr
}

func uniqueNames(names []string) error {
	seen := make(map[string]int, len(names))
	for i, name := range names {
		if j, ok := seen[name]; ok {
			return fmt.Errorf("ring: nodes %d and %d share the placement name %q", j, i, name)
		}
		seen[name] = i
	}
	return nil
}
