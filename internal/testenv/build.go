package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// builds holds the hashproxy binaries built by this test process, one per
// flavour, in a temporary directory that RemoveBuilds deletes.
var builds struct {
	mu    sync.Mutex
	dir   string
	paths map[bool]string // by race
}

// Hashproxy returns the path of the hashproxy command built for this test
// process, with the race detector when race is set (pass Race to build it
// as the tests themselves are built). The first call of each flavour
// builds it; later calls share that build. A package whose tests call it
// calls RemoveBuilds from its TestMain.
func Hashproxy(t testing.TB, race bool) string {
	t.Helper()
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if p, ok := builds.paths[race]; ok {
		return p
	}
	if builds.dir == "" {
		dir, err := os.MkdirTemp("", "hashproxy-test-bin")
		if err != nil {
			t.Fatalf("testenv: %v", err)
		}
		builds.dir, builds.paths = dir, make(map[bool]string)
	}
	args := []string{"build"}
	name := "hashproxy"
	if race {
		args = append(args, "-race")
		name += "-race"
	}
	path := filepath.Join(builds.dir, name)
	out, err := exec.Command("go", append(args, "-o", path, "hashproxy/cmd/hashproxy")...).CombinedOutput()
	if err != nil {
		t.Fatalf("testenv: %v", fmt.Errorf("go build: %w\n%s", err, out))
	}
	builds.paths[race] = path
	return path
}

// RemoveBuilds deletes the binaries Hashproxy built.
func RemoveBuilds() {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.dir != "" {
		_ = os.RemoveAll(builds.dir)
		builds.dir, builds.paths = "", nil
	}
}
