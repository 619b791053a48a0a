package testenv

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
)

// ConfigEndpoint is a stand-in for an ElastiCache configuration endpoint:
// it answers "config get cluster" with the node list a test sets, and
// anything else with ERROR. It is the one fake node list in the tests: the
// nodes it lists are real memcached processes.
type ConfigEndpoint struct {
	// Addr is the "127.0.0.1:port" it listens on.
	Addr string

	mu      sync.Mutex
	nodes   []string // "host|ip|port"
	version int
}

// StartConfigEndpoint starts a configuration endpoint listing no node, and
// stops it when the test ends.
func StartConfigEndpoint(t testing.TB) *ConfigEndpoint {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: config endpoint: %v", err)
	}
	e := &ConfigEndpoint{Addr: ln.Addr().String()}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				e.serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	return e
}

// Set replaces the node list with nodes, each "host|ip|port", and bumps
// the configuration version, as ElastiCache does on a change.
func (e *ConfigEndpoint) Set(nodes ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.nodes = nodes
	e.version++
}

// serve answers one connection until the client closes it.
func (e *ConfigEndpoint) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		reply := "ERROR\r\n"
		if strings.TrimSpace(line) == "config get cluster" {
			e.mu.Lock()
			data := fmt.Sprintf("%d\n%s\n", e.version, strings.Join(e.nodes, " "))
			e.mu.Unlock()
			reply = fmt.Sprintf("CONFIG cluster 0 %d\r\n%s\r\nEND\r\n", len(data), data)
		}
		if _, err := c.Write([]byte(reply)); err != nil {
			return
		}
	}
}
