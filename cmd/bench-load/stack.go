package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stack is the local stack under load: a devstack process this command
// started, or one already running (-base).
type stack struct {
	url     string            // Functions host base URL
	cosmos  string            // Cosmos DB connection string ("" when unknown)
	pid     int               // devstack's pid (0 when unknown)
	setting map[string]string // app settings from the banner
	ru      *ruCollector      // nil when the handler's log is not ours to read
	pprof   profileAddrs
	// disabled are the functions -checkout-only turned off.
	disabled []string

	cmd  *exec.Cmd
	done chan struct{}
}

// profileAddrs are the pprof endpoints of the stack's Go processes and
// where node writes its profile; empty when profiling is off.
type profileAddrs struct {
	devstack, handler, nodeDir string
}

const stackReadyTimeout = 90 * time.Second

// startStack runs devstack as a child process in its own process group on
// a fresh data directory and returns once its banner is printed.
func startStack(ctx context.Context, cfg config, data string) (*stack, error) {
	level := "warn"
	if cfg.ru {
		level = "info" // the handler logs ru per invocation at info
	}
	args := []string{"-app", cfg.app, "-port", "0", "-data", data, "-log-level", level,
		"-feed-poll-delay", cfg.feedPollDelay.String()}
	st := &stack{setting: map[string]string{}, done: make(chan struct{})}
	if cfg.pprofDir != "" {
		prof, err := profileArgs(cfg.pprofDir)
		if err != nil {
			return nil, err
		}
		st.pprof = prof
		args = append(args, "-pprof", prof.devstack, "-handler-pprof", prof.handler, "-servicebus-cpu-prof", prof.nodeDir)
	}
	if cfg.ru {
		st.ru = newRUCollector()
	}
	var env []string
	if cfg.yieldCheckouts >= 0 {
		env = append(env, fmt.Sprintf("STAGE_YIELD_CHECKOUTS=%d", cfg.yieldCheckouts))
	}
	if cfg.checkoutOnly {
		fns, err := feedFunctions(cfg.app)
		if err != nil {
			return nil, err
		}
		st.disabled = fns
		for _, fn := range fns {
			env = append(env, "AzureWebJobs."+fn+".Disabled=true")
		}
	}
	return st, st.spawn(ctx, cfg.devstack, cfg.tree, args, env)
}

// feedFunctions are the functions of the staged app that a cosmosDBTrigger
// starts, read from their function.json files.
func feedFunctions(app string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(app, "*", "function.json"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var fj struct {
			Bindings []struct {
				Type string `json:"type"`
			} `json:"bindings"`
		}
		if err := json.Unmarshal(raw, &fj); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for _, b := range fj.Bindings {
			if b.Type == "cosmosDBTrigger" {
				out = append(out, filepath.Base(filepath.Dir(f)))
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no function in %s has a cosmosDBTrigger", app)
	}
	return out, nil
}

func profileArgs(dir string) (profileAddrs, error) {
	nodeDir, err := filepath.Abs(filepath.Join(dir, "servicebus"))
	if err != nil {
		return profileAddrs{}, err
	}
	var ports [2]string
	for i := range ports {
		if ports[i], err = freeAddr(); err != nil {
			return profileAddrs{}, err
		}
	}
	return profileAddrs{devstack: ports[0], handler: ports[1], nodeDir: nodeDir}, os.MkdirAll(nodeDir, 0o755)
}

// spawn starts devstack with this process's environment and env, in
// directory dir (devstack finds its emulators from there; "" is this
// process's own).
func (st *stack) spawn(ctx context.Context, bin, dir string, args, env []string) error {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	// Its own group keeps Ctrl-C for this process, which then stops devstack
	// in order; if this process dies first, the kernel stops devstack too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}
	st.cmd, st.pid = cmd, cmd.Process.Pid
	var tail lastLines
	go st.readConsole(stderr, &tail)
	ready := make(chan struct{})
	go st.readBanner(stdout, ready)
	go func() { _ = cmd.Wait(); close(st.done) }()
	return st.awaitBanner(ctx, ready, &tail)
}

func (st *stack) awaitBanner(ctx context.Context, ready <-chan struct{}, tail *lastLines) error {
	select {
	case <-ready:
		return nil
	case <-st.done:
		return fmt.Errorf("devstack exited before it was ready:\n%s", tail.String())
	case <-ctx.Done():
		return errors.Join(ctx.Err(), st.close())
	case <-time.After(stackReadyTimeout):
		return errors.Join(fmt.Errorf("devstack not ready within %s:\n%s", stackReadyTimeout, tail.String()), st.close())
	}
}

// readBanner picks FUNCTIONS_URL and the app settings out of devstack's
// banner; the "Try:" line ends it.
func (st *stack) readBanner(r io.Reader, ready chan<- struct{}) {
	sc := bufio.NewScanner(r)
	sent := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(line, "FUNCTIONS_URL="); ok {
			st.url = v
		}
		if k, v, ok := strings.Cut(line, "="); ok && !sent && isSettingName(k) {
			st.setting[k] = v
		}
		if line == "Try:" && !sent {
			st.cosmos = st.setting["COSMOS"]
			close(ready)
			sent = true
		}
	}
}

func isSettingName(k string) bool {
	return k != "" && strings.Trim(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == ""
}

// readConsole feeds the host's console (which carries the handler's log
// lines) to the RU collector and keeps the last lines for error messages.
func (st *stack) readConsole(r io.Reader, tail *lastLines) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		tail.add(line)
		if st.ru != nil {
			st.ru.line(line)
		}
	}
}

// close stops devstack (SIGTERM to its process group, SIGKILL after 20 s).
func (st *stack) close() error {
	if st.cmd == nil {
		return nil
	}
	_ = syscall.Kill(-st.pid, syscall.SIGTERM)
	select {
	case <-st.done:
		return nil
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(-st.pid, syscall.SIGKILL)
		<-st.done
		return errors.New("devstack did not stop within 20s of SIGTERM; killed")
	}
}

// lastLines keeps the last 20 lines written to it.
type lastLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *lastLines) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, s)
	if len(l.lines) > 20 {
		l.lines = l.lines[1:]
	}
}

func (l *lastLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
