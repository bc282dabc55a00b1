// Package sbemu starts and stops the project's Service Bus emulator (a Node
// process under emulators/servicebus) for tests and local tools.
package sbemu

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ordersflow/orderpipeline/internal/repo"
)

const (
	readyPrefix   = "SERVICEBUS_CONNECTION_STRING="
	controlPrefix = "SERVICEBUS_CONTROL_URL="
	stopGrace     = 5 * time.Second
)

// Emulator is a running emulator process.
type Emulator struct {
	cmd        *exec.Cmd
	stdin      io.WriteCloser
	connStr    string
	controlURL string
	done       chan struct{}
	waitErr    error
	stopOnce   sync.Once
	stopErr    error
}

// Option changes how Start runs the emulator.
type Option func(*options)

type options struct {
	dataDir    string
	control    bool
	cpuProfile string
	port       int
	ctlPort    int
}

// WithDataDir keeps the broker's state in dir (created if needed), so that
// what it acknowledged survives a restart or a kill -9. Without it the
// emulator keeps everything in memory.
func WithDataDir(dir string) Option { return func(o *options) { o.dataDir = dir } }

// WithFaultControl opens the emulator's control endpoint, which InjectFault,
// ClearFaults, Faults and Entities use. No fault is in force until one is
// injected.
func WithFaultControl() Option { return func(o *options) { o.control = true } }

// WithPort has the broker listen on port instead of one the system picks,
// so that a restart keeps the connection string its clients hold.
func WithPort(port int) Option { return func(o *options) { o.port = port } }

// WithControlPort is WithFaultControl on a fixed port.
func WithControlPort(port int) Option {
	return func(o *options) { o.control, o.ctlPort = true, port }
}

// WithCPUProfile has node write a V8 CPU profile (.cpuprofile, readable by
// Chrome DevTools or `npx speedscope`) into dir when the emulator stops.
func WithCPUProfile(dir string) Option { return func(o *options) { o.cpuProfile = dir } }

type ready struct{ connStr, controlURL string }

// Start runs the emulator (what `npm --prefix <repo>/emulators/servicebus start --silent --
// --port 0 --config <configPath>` runs, with node directly) in its own process
// group, waits for the SERVICEBUS_CONNECTION_STRING= line and forwards the
// emulator's stderr to logw (which may be nil). It fails clearly if
// node_modules is missing.
func Start(ctx context.Context, repoRoot, configPath string, logw io.Writer, opts ...Option) (*Emulator, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if logw == nil {
		logw = io.Discard
	}
	cmd, err := command(filepath.Join(repoRoot, "emulators", "servicebus"), configPath, o)
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logw
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("service bus emulator stdout: %w", err)
	}
	// The emulator exits when this pipe closes, so it cannot outlive a test
	// binary that is killed before Stop runs.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("service bus emulator stdin: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start service bus emulator: %w", err)
	}
	e := &Emulator{cmd: cmd, done: make(chan struct{}), stdin: stdin}
	readyc := make(chan ready, 1)
	go e.readStdout(stdout, readyc, logw)
	go func() {
		e.waitErr = cmd.Wait()
		close(e.done)
	}()
	if err := e.waitReady(ctx, readyc); err != nil {
		return nil, err
	}
	return e, nil
}

// command checks what the emulator needs and builds its command line: the
// same as `npm --prefix <dir> start --silent -- ...`, minus npm, since node
// starts and stops faster without it (npm lingers ~2 s after SIGTERM).
func command(dir, configPath string, o options) (*exec.Cmd, error) {
	if err := checkDeps(dir, o); err != nil {
		return nil, err
	}
	absConfig, err := filepath.Abs(configPath)
	if err != nil {
		return nil, fmt.Errorf("resolve config %s: %w", configPath, err)
	}
	if _, err := os.Stat(absConfig); err != nil {
		return nil, fmt.Errorf("service bus emulator config: %w", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("service bus emulator needs Node.js 20 on PATH: %w", err)
	}
	args, err := nodeArgs(dir, absConfig, o)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(node, args...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd, nil
}

func (e *Emulator) waitReady(ctx context.Context, readyc <-chan ready) error {
	select {
	case r := <-readyc:
		e.connStr, e.controlURL = r.connStr, r.controlURL
		return nil
	case <-e.done:
		return fmt.Errorf("service bus emulator exited before it was ready: %v", e.waitErr)
	case <-ctx.Done():
		_ = e.Stop()
		return fmt.Errorf("wait for service bus emulator: %w", ctx.Err())
	}
}

func checkDeps(dir string, o options) error {
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "rhea")); err != nil {
		return fmt.Errorf("service bus emulator dependencies missing in %s (run: npm --prefix emulators/servicebus ci): %w", dir, err)
	}
	if o.dataDir == "" {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "better-sqlite3")); err != nil {
		return fmt.Errorf("service bus emulator store missing in %s (run: npm --prefix emulators/servicebus ci): %w", dir, err)
	}
	return nil
}

func nodeArgs(dir, config string, o options) ([]string, error) {
	var args []string
	if o.cpuProfile != "" {
		args = append(args, "--cpu-prof", "--cpu-prof-dir="+o.cpuProfile)
	}
	args = append(args, filepath.Join(dir, "src", "main.js"), "--port", strconv.Itoa(o.port), "--config", config, "--exit-when-stdin-closes")
	if o.dataDir != "" {
		abs, err := filepath.Abs(o.dataDir)
		if err != nil {
			return nil, fmt.Errorf("resolve data dir %s: %w", o.dataDir, err)
		}
		args = append(args, "--data-dir", abs)
	}
	if o.control {
		args = append(args, "--control-port", strconv.Itoa(o.ctlPort))
	}
	return args, nil
}

// readStdout waits for the ready line (the connection string, after the
// control URL when there is one) and logs anything else.
func (e *Emulator) readStdout(r io.Reader, readyc chan<- ready, logw io.Writer) {
	sc := bufio.NewScanner(r)
	sent := false
	var control string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case !sent && strings.HasPrefix(line, controlPrefix):
			control = strings.TrimPrefix(line, controlPrefix)
		case !sent && strings.HasPrefix(line, readyPrefix):
			readyc <- ready{connStr: strings.TrimPrefix(line, readyPrefix), controlURL: control}
			sent = true
		default:
			fmt.Fprintf(logw, "servicebus-emulator stdout: %s\n", line)
		}
	}
}

// ConnectionString is the UseDevelopmentEmulator=true connection string.
func (e *Emulator) ConnectionString() string { return e.connStr }

// ControlURL is the base URL of the control endpoint, "" unless the emulator
// was started WithFaultControl.
func (e *Emulator) ControlURL() string { return e.controlURL }

// PID is the process id of the emulator's process group leader.
func (e *Emulator) PID() int { return e.cmd.Process.Pid }

// Done is closed when the emulator's process has exited, however it ended.
func (e *Emulator) Done() <-chan struct{} { return e.done }

// Stop sends SIGTERM to the process group, waits for it to exit, and sends
// SIGKILL after 5 s.
func (e *Emulator) Stop() error {
	e.stopOnce.Do(func() {
		pgid := e.cmd.Process.Pid
		if err := syscall.Kill(-pgid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
			e.stopErr = fmt.Errorf("stop service bus emulator: %w", err)
		}
		deadline := time.Now().Add(stopGrace)
		select {
		case <-e.done:
		case <-time.After(stopGrace):
		}
		// npm may exit before node does: wait for the whole group.
		if !waitGroupGone(pgid, deadline) {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			waitGroupGone(pgid, time.Now().Add(2*time.Second))
		}
		<-e.done
	})
	return e.stopErr
}

// Kill ends the emulator with SIGKILL, as a crash would: nothing is flushed
// or closed. A later Start on the same data dir finds what was acknowledged.
func (e *Emulator) Kill() error {
	e.stopOnce.Do(func() {
		pgid := e.cmd.Process.Pid
		if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			e.stopErr = fmt.Errorf("kill service bus emulator: %w", err)
		}
		<-e.done
		waitGroupGone(pgid, time.Now().Add(2*time.Second))
	})
	return e.stopErr
}

// waitGroupGone polls until no process of the group is left or deadline passes.
func waitGroupGone(pgid int, deadline time.Time) bool {
	for {
		if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// RepoRoot finds the module root by walking up from the working directory to go.mod.
func RepoRoot() (string, error) { return repo.Root() }
