//go:build unix && !linux

package funchost

import (
	"os/exec"
	"syscall"
)

// detach puts the handler in its own process group so that Ctrl-C in a
// terminal reaches only the host, which then drains and stops the handler.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
