package proxy

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"hashproxy/internal/testenv"
)

// TestMain fails the package's tests if any goroutine outlives them: every
// client, upstream and prober goroutine must end at shutdown. Then it
// removes the binaries the tests built.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		testenv.RemoveBuilds()
		os.Exit(code)
	}))
}
