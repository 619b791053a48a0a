//go:build race

package testenv

// Race is whether this test binary runs with the race detector.
const Race = true
