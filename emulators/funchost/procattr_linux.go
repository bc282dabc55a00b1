//go:build linux

package funchost

import (
	"os/exec"
	"syscall"
)

// detach puts the handler in its own process group so that Ctrl-C in a
// terminal reaches only the host, which then drains and stops the handler.
// If the host dies without stopping it (kill -9), the kernel kills the
// handler too, so a crashed stack leaves no orphan holding a port.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
