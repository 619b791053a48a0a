package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// decoder walks a YAML node tree, recording each value's line and every
// problem found, so that one pass reports them all.
type decoder struct {
	file     string
	lines    map[string]int
	problems []Problem
}

// problem records a problem at n's line (0 when n is nil).
func (d *decoder) problem(n *yaml.Node, pool, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.problems = append(d.problems, Problem{File: d.file, Line: line, Pool: pool, Msg: fmt.Sprintf(format, args...)})
}

// posKey names a position in the configuration: a pool, one of its keys, or
// one of its servers ("pools", name, "servers", index).
func posKey(parts ...string) string { return strings.Join(parts, "\x00") }

// mark remembers the line of the value at the position named by parts.
func (d *decoder) mark(n *yaml.Node, parts ...string) { d.lines[posKey(parts...)] = n.Line }

// entry is one key-value pair of a mapping.
type entry struct {
	key   string
	knode *yaml.Node
	value *yaml.Node
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

// entries returns a mapping's pairs with aliases resolved, reporting keys
// that are not plain scalars or that repeat; ok is false when m is not a
// mapping. what names the mapping in problems.
func (d *decoder) entries(m *yaml.Node, pool, what string) (out []entry, ok bool) {
	m = resolve(m)
	if m.Kind != yaml.MappingNode {
		d.problem(m, pool, "%s must be a mapping", what)
		return nil, false
	}
	out = make([]entry, 0, len(m.Content)/2)
	seen := make(map[string]int, len(m.Content)/2)
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := resolve(m.Content[i]), resolve(m.Content[i+1])
		switch {
		case k.Kind != yaml.ScalarNode:
			d.problem(k, pool, "%s: keys must be plain names", what)
			continue
		case k.Tag == "!!merge":
			d.problem(k, pool, "%s: merge keys (<<) are not supported", what)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.problem(k, pool, "%s: key %q repeated (first on line %d)", what, k.Value, first)
			continue
		}
		seen[k.Value] = k.Line
		out = append(out, entry{key: k.Value, knode: k, value: v})
	}
	return out, true
}

// The setters below store a value into dst only when it reads well, so a
// bad value leaves the default in place and is reported once. Each returns
// whether it stored.

// str reads a scalar as a string; null reads as "".
func (d *decoder) str(e entry, pool string, dst *string) bool {
	if e.value.Kind != yaml.ScalarNode {
		d.problem(e.value, pool, "%s: must be a single value", e.key)
		return false
	}
	*dst = e.value.Value
	if e.value.Tag == "!!null" {
		*dst = ""
	}
	return true
}

// integer reads a YAML integer that fits an int.
func (d *decoder) integer(e entry, pool string, dst *int) bool {
	var v int64
	if e.value.Kind != yaml.ScalarNode || e.value.Tag != "!!int" || e.value.Decode(&v) != nil || v > math.MaxInt || v < math.MinInt {
		d.problem(e.value, pool, "%s: %s is not an integer", e.key, describe(e.value))
		return false
	}
	*dst = int(v)
	return true
}

// boolean reads true or false.
func (d *decoder) boolean(e entry, pool string, dst *bool) bool {
	if e.value.Kind != yaml.ScalarNode || e.value.Tag != "!!bool" || e.value.Decode(dst) != nil {
		d.problem(e.value, pool, "%s: %s is not true or false", e.key, describe(e.value))
		return false
	}
	return true
}

// duration reads an integer number of milliseconds (twemproxy's unit) or a
// Go duration string such as "250ms" or "1m30s".
func (d *decoder) duration(e entry, pool string, dst *time.Duration) bool {
	n := e.value
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		var ms int64
		if n.Decode(&ms) == nil && ms <= math.MaxInt64/int64(time.Millisecond) && ms >= math.MinInt64/int64(time.Millisecond) {
			*dst = time.Duration(ms) * time.Millisecond
			return true
		}
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		if v, err := time.ParseDuration(n.Value); err == nil {
			*dst = v
			return true
		}
	}
	d.problem(n, pool, "%s: %s is neither milliseconds nor a duration like \"250ms\"", e.key, describe(n))
	return false
}

// describe quotes a scalar's text for a problem, or names the node's kind.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return "the value"
	}
}
