package chaos

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stack is a devstack process with everything it started: the Cosmos DB
// emulator and the host in the process, the handler, the Service Bus
// emulator and Azurite as its children. Its ports are fixed, so a restart
// keeps every URL and connection string.
type stack struct {
	bin  string
	args []string
	log  io.Writer // devstack's console

	cmd      *exec.Cmd
	done     chan struct{}
	url      string // Functions host
	cosmos   string // COSMOS connection string
	endpoint string // Cosmos DB emulator endpoint
	control  string // Service Bus emulator control URL
	bus      string // SERVICEBUS connection string
	master   string // the host's master key
}

const readyTimeout = 2 * time.Minute

func newStack(bin, app, data string, log io.Writer) (*stack, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cosmosPort, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{"-app", app, "-data", data, "-port", port, "-cosmos-port", cosmosPort, "-servicebus-faults",
		"-lease-expiration", "5s"}
	return &stack{bin: bin, args: args, log: log}, nil
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}

// start runs devstack and waits for its banner.
func (s *stack) start(ctx context.Context) error {
	cmd := exec.Command(s.bin, s.args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Stderr = s.log
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(s.done) }()
	ready := make(chan struct{})
	go s.readBanner(out, ready)
	select {
	case <-ready:
		return nil
	case <-s.done:
		return errors.New("devstack exited before it was ready (see its log)")
	case <-ctx.Done():
		s.kill()
		return ctx.Err()
	case <-time.After(readyTimeout):
		s.kill()
		return fmt.Errorf("devstack not ready within %s", readyTimeout)
	}
}

// readBanner takes what chaos needs from the banner; the "Try:" line ends it.
func (s *stack) readBanner(r io.Reader, ready chan<- struct{}) {
	sc := bufio.NewScanner(r)
	sent := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "FUNCTIONS_URL":
			s.url = v
		case "COSMOS":
			s.cosmos = strings.TrimPrefix(line, "COSMOS=")
		case "COSMOS_ENDPOINT":
			s.endpoint = v
		case "SERVICEBUS":
			s.bus = strings.TrimPrefix(line, "SERVICEBUS=")
		case "SERVICEBUS_CONTROL_URL":
			s.control = v
		case "master":
			s.master = v
		}
		if line == "Try:" && !sent {
			close(ready)
			sent = true
		}
	}
}

// cosmosKey is the account key in the COSMOS connection string.
func (s *stack) cosmosKey() string {
	for _, part := range strings.Split(s.cosmos, ";") {
		if v, ok := strings.CutPrefix(part, "AccountKey="); ok {
			return v
		}
	}
	return ""
}

// kill SIGKILLs devstack and every process it started, as a power cut
// would, and waits until all are gone.
func (s *stack) kill() {
	kids := children(s.cmd.Process.Pid)
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	for pid := range kids {
		_ = syscall.Kill(-pid, syscall.SIGKILL) // each child runs in its own group
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	<-s.done
	for pid := range kids {
		waitGone(pid, 10*time.Second)
	}
}

// stop ends devstack with SIGTERM, as Ctrl-C does.
func (s *stack) stop() {
	if s.cmd == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.kill()
	}
}

// child finds the devstack child whose command line contains marker.
func (s *stack) child(marker string) int {
	for pid, cmdline := range children(s.cmd.Process.Pid) {
		if strings.Contains(cmdline, marker) {
			return pid
		}
	}
	return 0
}

// killChild SIGKILLs the child matching marker (its whole group) and waits
// until devstack has started another.
func (s *stack) killChild(ctx context.Context, marker string) (int, int, error) {
	old := s.child(marker)
	if old == 0 {
		return 0, 0, fmt.Errorf("no child process %q of devstack", marker)
	}
	_ = syscall.Kill(-old, syscall.SIGKILL)
	_ = syscall.Kill(old, syscall.SIGKILL)
	for {
		if pid := s.child(marker); pid != 0 && pid != old {
			return old, pid, nil
		}
		select {
		case <-ctx.Done():
			return old, 0, fmt.Errorf("%q not restarted: %w", marker, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// children maps the pid of each live child of parent to its command line.
func children(parent int) map[int]string {
	out := map[int]string{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, state := statOf(pid); ppid == parent && state != "Z" {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			out[pid] = strings.ReplaceAll(string(b), "\x00", " ")
		}
	}
	return out
}

// statOf reads a process's parent pid and state from /proc/<pid>/stat.
func statOf(pid int) (int, string) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, ""
	}
	// pid (comm) state ppid ...; comm may hold spaces, so cut at the last ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, ""
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0, ""
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid, f[0]
}

func waitGone(pid int, within time.Duration) {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if _, state := statOf(pid); state == "" || state == "Z" {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
