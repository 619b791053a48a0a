package main

import (
	"os"
	"testing"

	"hashproxy/internal/testenv"
)

// TestMain removes the binaries the tests built once they have run.
func TestMain(m *testing.M) {
	code := m.Run()
	testenv.RemoveBuilds()
	os.Exit(code)
}
