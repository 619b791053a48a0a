//go:build !unix

package sockio

import "syscall"

// rawConn returns nil: raw socket calls are for unix systems only.
func rawConn(any) syscall.RawConn { return nil }

// Without raw calls (rawConn is nil) these are never called.
func (t *transfer) try(uintptr) bool               { return true }
func peekNow(uintptr, []byte) (int, syscall.Errno) { return 0, 0 }
