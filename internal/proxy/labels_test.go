package proxy

import (
	"testing"

	"hashproxy/internal/proto"
	"hashproxy/internal/upstream"
)

// TestMetricLabelsFollowTheirOwners checks that every command the proxy
// forwards has its own command label, named as proto names it, at the index
// commandIndex gives, and that every upstream failure kind has its kind
// label at its own index.
func TestMetricLabelsFollowTheirOwners(t *testing.T) {
	l := MetricLabels()
	seen := 0
	for c := proto.Command(1); int(c) < proto.NumCommands; c++ {
		i := commandIndex[c]
		if !forwarded(c) {
			if i != -1 {
				t.Errorf("%s is answered locally but has metric index %d", c, i)
			}
			continue
		}
		seen++
		if i < 0 || i >= len(l.Commands) || l.Commands[i] != c.String() {
			t.Errorf("%s: index %d does not name it in %q", c, i, l.Commands)
		}
	}
	if seen != len(l.Commands) {
		t.Errorf("%d forwarded commands, %d command labels", seen, len(l.Commands))
	}
	for _, c := range []proto.Command{proto.CmdGet, proto.CmdSet, proto.CmdFlushAll} {
		if !forwarded(c) {
			t.Errorf("%s is not forwarded", c)
		}
	}
	kinds := upstream.Kinds()
	if len(l.ErrorKinds) != len(kinds) {
		t.Fatalf("%d kind labels, %d upstream kinds", len(l.ErrorKinds), len(kinds))
	}
	for _, k := range kinds {
		if l.ErrorKinds[k] != k.String() {
			t.Errorf("kind %d: label %q, want %q", k, l.ErrorKinds[k], k)
		}
	}
}
