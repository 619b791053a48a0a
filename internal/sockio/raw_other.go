//go:build !unix

package sockio

import (
	"net"
	"syscall"
)

// rawConn returns nil: raw socket calls are for unix systems only.
func rawConn(net.Conn) syscall.RawConn { return nil }

// Without raw calls (rawConn is nil) these are never called.
func (c *Conn) tryRead(uintptr) bool               { return true }
func (c *Conn) tryWrite(uintptr) bool              { return true }
func peekNow(uintptr, []byte) (int, syscall.Errno) { return 0, 0 }
