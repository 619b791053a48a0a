package metrics

import (
	"sync"
	"time"
)

// The kinds of Event.
const (
	EventNodeDown  = "node_down" // a node stopped answering and was marked down
	EventNodeUp    = "node_up"   // a node marked down answered again
	EventReload    = "reload"    // a configuration reload, with its result
	EventDiscovery = "discovery" // discovery found other nodes for a pool, and they were applied
)

// The results of a reload Event.
const (
	ResultSuccess = "success"
	ResultFailure = "failure"
)

// MaxEvents is the number of events Events keeps, the most recent.
const MaxEvents = 50

// Event is one thing that happened to the proxy, for the status page.
type Event struct {
	Time time.Time `json:"time"`
	// Kind is one of the Event* constants.
	Kind string `json:"kind"`
	// Pool and Server name what it happened to, when it was one pool or
	// one node.
	Pool   string `json:"pool,omitempty"`
	Server string `json:"server,omitempty"`
	// Result is a reload's, ResultSuccess or ResultFailure.
	Result string `json:"result,omitempty"`
	// Message says more, for a person: why a reload failed, whether a
	// node left the ring.
	Message string `json:"message,omitempty"`
}

// eventLog keeps the last MaxEvents events.
type eventLog struct {
	mu   sync.Mutex
	ring [MaxEvents]Event
	next int // where the next event goes
	n    int // events kept, up to MaxEvents
}

// RecordEvent adds e to the events the status page shows, stamping it with
// the current time if it has none. The oldest is dropped past MaxEvents.
func (m *Metrics) RecordEvent(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	l := &m.events
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ring[l.next] = e
	l.next = (l.next + 1) % MaxEvents
	l.n = min(l.n+1, MaxEvents)
}

// Events returns the events kept, most recent first.
func (m *Metrics) Events() []Event {
	l := &m.events
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Event, l.n)
	for i := range out {
		out[i] = l.ring[(l.next-1-i+MaxEvents)%MaxEvents]
	}
	return out
}
