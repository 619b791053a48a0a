package proxy

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: every
// client, upstream and prober goroutine must end at shutdown.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
