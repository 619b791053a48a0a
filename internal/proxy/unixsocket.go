package proxy

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"syscall"
	"time"

	"hashproxy/internal/config"
)

// listenUnix listens on the Unix socket of la, replacing a stale socket
// file (one nobody listens on, left by a process that did not remove it)
// and refusing a live one, and gives the file la's mode. The listener
// removes the file when it is closed.
func listenUnix(la config.ListenAddr) (net.Listener, error) {
	if err := removeStaleSocket(la.Address); err != nil {
		return nil, err
	}
	ln, err := net.Listen("unix", la.Address)
	if err != nil {
		return nil, err
	}
	if err := chmodSocket(la); err != nil {
		_ = ln.Close()
		return nil, err
	}
	return ln, nil
}

// chmodSocket gives the socket file of la its mode, if it has one.
func chmodSocket(la config.ListenAddr) error {
	if la.Mode == 0 {
		return nil
	}
	if err := os.Chmod(la.Address, la.Mode); err != nil {
		return fmt.Errorf("socket mode: %w", err)
	}
	return nil
}

// removeStaleSocket removes the socket file at path when nothing listens
// on it. A live socket, or a file that is not a socket, is an error.
func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.Mode().Type() != fs.ModeSocket:
		return fmt.Errorf("%s exists and is not a socket", path)
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		_ = c.Close()
		return fmt.Errorf("%s: another process is listening on this socket", path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("%s: checking whether the socket is in use: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing the stale socket: %w", err)
	}
	return nil
}

// sameSocket reports whether two listen addresses are the same Unix
// socket, perhaps with different modes: a reload then keeps the listener.
func sameSocket(a, b string) bool {
	la, errA := config.ParseListen(a)
	lb, errB := config.ParseListen(b)
	return errA == nil && errB == nil && la.Network == "unix" && lb.Network == "unix" && la.Address == lb.Address
}
