package devstack

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Instance is one host process of a fleet.
type Instance struct {
	Name string // its change feed lease owner id, e.g. "host-2"
	PID  int    // the funchost process; kill it to take the instance down
	URL  string // its own HTTP listener
}

// fleet is several funchost processes on one app and lease container,
// behind one round-robin port.
type fleet struct {
	hosts []*hostProc
	rr    *roundRobin
	srv   *http.Server
	ln    net.Listener
	con   *syncWriter
}

// hostProc is one funchost process.
type hostProc struct {
	Instance
	backend *url.URL
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process exited
}

// syncWriter serialises the console lines of every instance.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) line(prefix, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.w, "%s%s\n", prefix, text)
}

func startFleet(ctx context.Context, o Options, settings map[string]string) (*fleet, error) {
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", o.Addr, err)
	}
	f := &fleet{rr: newRoundRobin(), ln: ln, con: &syncWriter{w: o.Console}}
	f.srv = &http.Server{Handler: f.rr, ReadHeaderTimeout: 30 * time.Second}
	go f.srv.Serve(ln) //nolint:errcheck // returns ErrServerClosed on Close
	// All at once, as a scaled-out app's instances start: they race for
	// the leases and then balance them.
	errs := make([]error, o.Hosts)
	f.hosts = make([]*hostProc, o.Hosts)
	var wg sync.WaitGroup
	for i := range o.Hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.hosts[i], errs[i] = f.startHost(ctx, o, settings, fmt.Sprintf("host-%d", i+1))
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, errors.Join(err, f.close())
	}
	for _, h := range f.hosts {
		f.rr.add(h.backend)
	}
	return f, nil
}

func (f *fleet) startHost(ctx context.Context, o Options, settings map[string]string, name string) (*hostProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := exec.Command(o.FuncHost, "-script-root", o.AppDir, "-addr", addr, "-instance", name,
		"-feed-poll-delay", o.FeedPollDelay.String(), "-lease-expiration", o.LeaseExpiration.String())
	cmd.Env = os.Environ()
	for k, v := range settings {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	own(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", name, o.FuncHost, err)
	}
	h := &hostProc{Instance: Instance{Name: name, PID: cmd.Process.Pid, URL: "http://" + addr},
		backend: &url.URL{Scheme: "http", Host: addr}, cmd: cmd, done: make(chan struct{})}
	ready := make(chan struct{})
	go f.pipe(h, out, ready)
	go f.wait(h)
	if err := f.awaitReady(ctx, h, ready); err != nil {
		return nil, err
	}
	return h, nil
}

// pipe copies an instance's console, each line prefixed by its name, and
// closes ready at the host's "Host started." line.
func (f *fleet) pipe(h *hostProc, r io.Reader, ready chan struct{}) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	prefix := h.Name + " | "
	for sc.Scan() {
		f.con.line(prefix, sc.Text())
		if ready != nil && strings.HasPrefix(sc.Text(), "Host started.") {
			close(ready)
			ready = nil
		}
	}
}

func (f *fleet) wait(h *hostProc) {
	err := h.cmd.Wait()
	f.rr.remove(h.backend)
	close(h.done)
	f.con.line("devstack | ", fmt.Sprintf("%s (pid %d) exited: %v; HTTP goes to the other instances, its leases move once they expire", h.Name, h.PID, err))
}

func (f *fleet) awaitReady(ctx context.Context, h *hostProc, ready chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	select {
	case <-ready:
		return nil
	case <-h.done:
		return fmt.Errorf("%s exited before it was ready: %v", h.Name, h.cmd.ProcessState)
	case <-ctx.Done():
		_ = h.cmd.Process.Kill()
		<-h.done
		return fmt.Errorf("%s not ready: %w", h.Name, ctx.Err())
	}
}

func (f *fleet) url() string { return "http://" + f.ln.Addr().String() }

func (f *fleet) instances() []Instance {
	out := make([]Instance, len(f.hosts))
	for i, h := range f.hosts {
		out[i] = h.Instance
	}
	return out
}

// close stops the front door, then every instance gracefully (SIGTERM:
// each releases its leases), killing those that take too long.
func (f *fleet) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := f.srv.Shutdown(ctx)
	var wg sync.WaitGroup
	for _, h := range f.hosts {
		if h == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			stopHost(h)
		}()
	}
	wg.Wait()
	if errors.Is(err, context.DeadlineExceeded) {
		return nil // a long-running request was cut off
	}
	return err
}

func stopHost(h *hostProc) {
	_ = h.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-h.done:
	case <-time.After(20 * time.Second):
		_ = h.cmd.Process.Kill()
		<-h.done
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// funcHostBinary is the funchost executable next to the running one.
func funcHostBinary() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(filepath.Dir(self), "funchost")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("a fleet needs the funchost binary (go build -o %s ./cmd/funchost) or Options.FuncHost: %w", bin, err)
	}
	return bin, nil
}
