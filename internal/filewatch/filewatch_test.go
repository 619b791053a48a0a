package filewatch

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

const debounce = 100 * time.Millisecond

// start watches path until the test ends.
func start(t *testing.T, path string) *Watcher {
	t.Helper()
	w, err := New(path, debounce)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return w
}

// expect waits for a change to be reported, or checks that none is within
// a few debounce times.
func expect(t *testing.T, w *Watcher, change bool, what string) {
	t.Helper()
	wait := 20 * debounce
	if !change {
		wait = 5 * debounce
	}
	select {
	case <-w.C:
		if !change {
			t.Fatalf("%s: reported a change", what)
		}
	case <-time.After(wait):
		if change {
			t.Fatalf("%s: no change reported", what)
		}
	}
}

func write(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestEditsInPlace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hashproxy.yaml")
	write(t, path, "one")
	w := start(t, path)

	write(t, path, "two")
	expect(t, w, true, "a write")
	// An editor's several writes, less than the debounce time apart.
	for _, body := range []string{"", "th", "three"} {
		write(t, path, body)
		time.Sleep(debounce / 4)
	}
	expect(t, w, true, "several writes")
	expect(t, w, false, "several writes, a second report")

	write(t, path, "three") // the same content again
	expect(t, w, false, "a write of the same content")
	write(t, filepath.Join(filepath.Dir(path), "other.yaml"), "x")
	expect(t, w, false, "another file of the directory")

	// Written elsewhere and renamed over it, as many editors do.
	tmp := filepath.Join(filepath.Dir(path), ".hashproxy.yaml.swp")
	write(t, tmp, "four")
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	expect(t, w, true, "a rename over the file")
}

// TestConfigMapSwap updates a directory the way the kubelet updates a
// mounted ConfigMap: the file is a symlink through ..data, and ..data is
// swapped atomically to a new directory, the old one then removed.
func TestConfigMapSwap(t *testing.T) {
	dir := t.TempDir()
	version := func(name, body string) {
		if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, name, "hashproxy.yaml"), body)
	}
	version("..2026_01", "one")
	if err := os.Symlink("..2026_01", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "hashproxy.yaml")
	if err := os.Symlink("..data/hashproxy.yaml", path); err != nil {
		t.Fatal(err)
	}
	w := start(t, path)

	swap := func(old, name, body string) {
		version(name, body)
		if err := os.Symlink(name, filepath.Join(dir, "..data_tmp")); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(filepath.Join(dir, old)); err != nil {
			t.Fatal(err)
		}
	}
	swap("..2026_01", "..2026_02", "two")
	expect(t, w, true, "a swap")
	swap("..2026_02", "..2026_03", "three")
	expect(t, w, true, "a second swap")
	swap("..2026_03", "..2026_04", "three")
	expect(t, w, false, "a swap to the same content")
}
