//go:build !linux

package testenv

import "os/exec"

// dieWithTest does nothing where the kernel cannot tie a child's life to
// its parent's; Stop and test cleanups still end the process.
func dieWithTest(*exec.Cmd) {}
