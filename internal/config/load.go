package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Override changes a configuration after it is read and before it is
// validated: settings given on the command line, which take precedence
// over the file's.
type Override func(*Config)

// Load reads the configuration file at path, in either format, applies
// defaults, then overrides, and validates it. Problems in the file come
// back as an *Error.
func Load(path string, overrides ...Override) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data, overrides...)
}

// Parse reads a configuration in either format from data; name is the file
// name used in problems. It applies defaults, then overrides, and
// validates, returning an *Error that lists every problem found.
//
// The native format has top-level keys admin, log and pools, where pools maps
// each pool name to its settings. Anything else is read as a twemproxy
// nutcracker.yml: a mapping from pool name to settings.
func Parse(name string, data []byte, overrides ...Override) (*Config, error) {
	d := &decoder{file: name, lines: make(map[string]int)}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		d.problems = append(d.problems, syntaxProblem(name, err))
		return nil, newError(d.problems)
	}
	cfg := Default()
	cfg.Path = name
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		d.problem(nil, "", "no pools: the file is empty")
		return nil, newError(d.problems)
	}
	root := resolve(doc.Content[0])
	if isNative(root) {
		d.native(root, &cfg)
	} else {
		cfg.Pools = d.twemproxy(root)
	}
	cfg.lines = d.lines
	for _, o := range overrides {
		o(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		d.problems = appendConsequences(d.problems, err.(*Error).Problems)
	}
	if err := newError(d.problems); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// appendConsequences adds the problems Validate found, leaving out those on
// a line and pool that already have a problem from reading the file: a
// value that did not read leaves a default or nothing in its place, and a
// complaint about that would repeat the first one.
func appendConsequences(read, validated []Problem) []Problem {
	type at struct {
		line int
		pool string
	}
	seen := make(map[at]bool, len(read))
	for _, p := range read {
		seen[at{p.Line, p.Pool}] = true
	}
	for _, p := range validated {
		if !seen[at{p.Line, p.Pool}] {
			read = append(read, p)
		}
	}
	return read
}

// syntaxProblem turns a YAML parse error ("yaml: line 3: ...") into a
// problem at that line.
func syntaxProblem(file string, err error) Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, tail, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil {
				line, msg = n, tail
			}
		}
	}
	return Problem{File: file, Line: line, Msg: "yaml: " + msg}
}

// isNative reports whether root is in the native format: a top-level pools
// key whose value maps names to mappings.
func isNative(root *yaml.Node) bool {
	if root.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "pools" {
			continue
		}
		pools := resolve(root.Content[i+1])
		if pools.Kind != yaml.MappingNode {
			return false
		}
		for j := 1; j < len(pools.Content); j += 2 {
			if resolve(pools.Content[j]).Kind != yaml.MappingNode {
				return false
			}
		}
		return true
	}
	return false
}

// twemproxy decodes a nutcracker.yml: pool name to pool settings.
func (d *decoder) twemproxy(root *yaml.Node) []Pool {
	var pools []Pool
	d.mark(root, "pools")
	entries, _ := d.entries(root, "", "the top level (pool name to settings)")
	for _, e := range entries {
		pools = append(pools, d.pool(e.knode, e.value, true))
	}
	return pools
}

// native decodes the native format's admin, log and pools sections.
func (d *decoder) native(root *yaml.Node, cfg *Config) {
	entries, _ := d.entries(root, "", "the top level")
	for _, e := range entries {
		d.mark(e.value, e.key)
		switch e.key {
		case "pools":
			pools, _ := d.entries(e.value, "", "pools")
			for _, p := range pools {
				cfg.Pools = append(cfg.Pools, d.pool(p.knode, p.value, false))
			}
		case "admin":
			d.admin(e.value, &cfg.Admin)
		case "log":
			d.log(e.value, &cfg.Log)
		default:
			d.problem(e.knode, "", "unknown top-level key %q (want admin, log, pools)", e.key)
		}
	}
}

// admin decodes the admin section.
func (d *decoder) admin(m *yaml.Node, a *Admin) {
	entries, _ := d.entries(m, "", "admin")
	for _, e := range entries {
		d.mark(e.value, "admin", e.key)
		key := e.key
		e.key = "admin." + key
		switch key {
		case "listen":
			d.str(e, "", &a.Listen)
		case "pprof":
			d.boolean(e, "", &a.Pprof)
		case "hot_keys":
			d.str(e, "", &a.HotKeys)
		default:
			d.problem(e.knode, "", "admin: unknown key %q (want listen, pprof, hot_keys)", key)
		}
	}
}

// log decodes the log section.
func (d *decoder) log(m *yaml.Node, l *Log) {
	entries, _ := d.entries(m, "", "log")
	for _, e := range entries {
		d.mark(e.value, "log", e.key)
		key := e.key
		e.key = "log." + key
		switch key {
		case "level":
			d.str(e, "", &l.Level)
		case "format":
			d.str(e, "", &l.Format)
		default:
			d.problem(e.knode, "", "log: unknown key %q (want level, format)", key)
		}
	}
}
