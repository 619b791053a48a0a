// Package filewatch reports changes to the content of one file, including
// the way Kubernetes updates a mounted ConfigMap: the file is a symlink
// through a "..data" symlink that is swapped to a new directory. It
// watches the file's directory (and, when the file is a symlink, its
// target's directory) with inotify, waits until the events have been
// quiet for a moment, and reports only when the content differs from the
// content last reported, so an editor's several writes, a touch, or a
// change to another file of the directory report once or not at all.
package filewatch

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watcher reports changes to one file's content on C.
type Watcher struct {
	// C receives a value when the file's content has changed and been
	// quiet for the debounce time. It holds one pending change at most.
	C <-chan struct{}

	path     string
	debounce time.Duration
	fs       *fsnotify.Watcher
	c        chan struct{}
	last     [sha256.Size]byte // of the content last reported, or at start
}

// New watches the file at path, taking its current content as the
// starting point; Run delivers the changes. debounce is how long the
// file's directory must be quiet before the file is read again.
func New(path string, debounce time.Duration) (*Watcher, error) {
	fs, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("filewatch: %w", err)
	}
	dirs := []string{filepath.Dir(path)}
	if target, err := filepath.EvalSymlinks(path); err == nil && filepath.Dir(target) != dirs[0] {
		dirs = append(dirs, filepath.Dir(target))
	}
	for _, d := range dirs {
		if err := fs.Add(d); err != nil {
			_ = fs.Close()
			return nil, fmt.Errorf("filewatch: watch %s: %w", d, err)
		}
	}
	c := make(chan struct{}, 1)
	w := &Watcher{C: c, c: c, path: path, debounce: debounce, fs: fs}
	if sum, err := w.sum(); err == nil {
		w.last = sum
	}
	return w, nil
}

// Run delivers changes until ctx ends, then stops watching. It returns
// the error that stopped inotify, or nil when ctx ended.
func (w *Watcher) Run(ctx context.Context) error {
	defer w.fs.Close()
	quiet := time.NewTimer(w.debounce)
	quiet.Stop()
	defer quiet.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-w.fs.Events:
			if !ok {
				return nil
			}
			quiet.Reset(w.debounce)
		case err, ok := <-w.fs.Errors:
			if !ok {
				return nil
			}
			return fmt.Errorf("filewatch: %s: %w", w.path, err)
		case <-quiet.C:
			w.check()
		}
	}
}

// Close stops watching. Run closes the watch itself when it returns;
// Close is for a Watcher whose Run may not have been called, and may be
// called more than once.
func (w *Watcher) Close() {
	_ = w.fs.Close()
}

// check reads the file and reports it when its content changed. A file
// that cannot be read (removed in the middle of a swap) reports nothing:
// the event that brings it back runs check again.
func (w *Watcher) check() {
	sum, err := w.sum()
	if err != nil || sum == w.last {
		return
	}
	w.last = sum
	select {
	case w.c <- struct{}{}:
	default: // a change is pending already
	}
}

// sum hashes the file's current content, through any symlinks.
func (w *Watcher) sum() ([sha256.Size]byte, error) {
	data, err := os.ReadFile(w.path)
	if err != nil {
		return [sha256.Size]byte{}, err
	}
	return sha256.Sum256(data), nil
}
