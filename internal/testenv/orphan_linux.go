package testenv

import (
	"os/exec"
	"syscall"
)

// dieWithTest makes the kernel kill cmd's process when the test process
// that started it dies, so a test binary killed on a timeout leaves no
// server behind.
func dieWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
