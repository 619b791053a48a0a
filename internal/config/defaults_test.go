package config

import (
	"testing"

	"hashproxy/internal/proto"
	"hashproxy/internal/upstream"
)

// TestDefaultsFollowTheirOwners checks that a pool's defaults are the ones
// the packages that apply them use for a zero setting.
func TestDefaultsFollowTheirOwners(t *testing.T) {
	p := DefaultPool()
	lim := proto.DefaultLimits()
	if p.MaxItemSize != lim.MaxItemSize || p.MaxLineLength != lim.MaxLineLength || p.MaxKeys != lim.MaxKeys {
		t.Errorf("limits: item %d, line %d, keys %d; proto's defaults %+v", p.MaxItemSize, p.MaxLineLength, p.MaxKeys, lim)
	}
	if p.Timeout != upstream.DefaultTimeout {
		t.Errorf("timeout %v, upstream's default %v", p.Timeout, upstream.DefaultTimeout)
	}
	if p.HealthCheckInterval != upstream.DefaultProbeInterval {
		t.Errorf("health_check_interval %v, upstream's probe interval %v", p.HealthCheckInterval, upstream.DefaultProbeInterval)
	}
}
