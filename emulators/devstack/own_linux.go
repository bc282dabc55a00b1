//go:build linux

package devstack

import (
	"os/exec"
	"syscall"
)

// own puts an instance in its own process group, so Ctrl-C reaches only
// devstack (which stops each instance gracefully) and a kill -9 by PID
// takes down that one instance; if devstack itself dies, so do they.
func own(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
