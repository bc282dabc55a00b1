package funchost

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

const (
	handlerReadyTimeout = 60 * time.Second
	handlerPollInterval = 50 * time.Millisecond
	handlerStopGrace    = 5 * time.Second
	restartDelayMax     = 10 * time.Second
)

// handlerProc runs the custom handler the way the host does: it picks a
// port, starts the executable with FUNCTIONS_CUSTOMHANDLER_PORT, polls GET /
// until any response arrives, restarts it when it exits and stops it on
// Close.
type handlerProc struct {
	hc    hostConfig
	env   []string
	port  int
	con   *console
	conns handlerConns // kept-alive connections for forwarded requests

	mu       sync.Mutex
	cmd      *exec.Cmd
	ready    chan struct{} // closed once the running process answers
	stopping bool
	stop     chan struct{}
	done     chan struct{} // closed when supervise returns
}

func newHandlerProc(hc hostConfig, settings *appSettings, con *console) (*handlerProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("pick a port for the custom handler: %w", err)
	}
	env := settings.environ(map[string]string{
		"FUNCTIONS_CUSTOMHANDLER_PORT": strconv.Itoa(port),
		"FUNCTIONS_WORKER_RUNTIME":     "custom",
	})
	return &handlerProc{hc: hc, env: env, port: port, con: con,
		ready: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (p *handlerProc) baseURL() string { return "http://127.0.0.1:" + strconv.Itoa(p.port) }

// start launches the handler and returns once it answers GET /.
func (p *handlerProc) start(ctx context.Context) error {
	exited, err := p.spawn()
	if err != nil {
		close(p.done)
		return err
	}
	if err := p.awaitFirstReady(ctx, exited); err != nil {
		p.kill()
		<-exited
		close(p.done)
		return err
	}
	go p.supervise(exited)
	return nil
}

func (p *handlerProc) awaitFirstReady(ctx context.Context, exited <-chan error) error {
	ctx, cancel := context.WithTimeout(ctx, handlerReadyTimeout)
	defer cancel()
	polled := make(chan error, 1)
	ready := p.ready
	go func() { polled <- p.pollReady(ctx, ready) }()
	select {
	case err := <-polled:
		if err != nil {
			return fmt.Errorf("custom handler %s did not answer GET / on port %d within %s: %w", p.hc.Executable, p.port, handlerReadyTimeout, err)
		}
		return nil
	case err := <-exited:
		return fmt.Errorf("custom handler %s exited before it answered GET /: %v", p.hc.Executable, err)
	}
}

// spawn starts one handler process; exited receives its Wait result, then
// is closed.
func (p *handlerProc) spawn() (<-chan error, error) {
	cmd := exec.Command(p.hc.Executable, p.hc.Arguments...)
	cmd.Dir = p.hc.WorkingDir
	cmd.Env = p.env
	cmd.Stdout = &lineWriter{con: p.con, prefix: "handler: "}
	cmd.Stderr = &lineWriter{con: p.con, prefix: "handler: "}
	cmd.WaitDelay = time.Second
	detach(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start custom handler %s: %w", p.hc.Executable, err)
	}
	p.mu.Lock()
	p.cmd = cmd
	p.mu.Unlock()
	p.con.printf("Custom handler started (pid %d) on port %d", cmd.Process.Pid, p.port)
	exited := make(chan error, 1)
	go func() {
		exited <- cmd.Wait()
		close(exited) // a second receive, after the exit was taken, does not block
	}()
	return exited, nil
}

// pollReady closes ready once GET / gets any HTTP response.
func (p *handlerProc) pollReady(ctx context.Context, ready chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.baseURL()+"/", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			close(ready)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(handlerPollInterval):
		}
	}
}

// waitReady blocks an invocation until the handler is up (it may be
// restarting).
func (p *handlerProc) waitReady(ctx context.Context) error {
	p.mu.Lock()
	ready := p.ready
	p.mu.Unlock()
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("custom handler is not running: %w", ctx.Err())
	}
}

func (p *handlerProc) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Kill() // already exited is fine
	}
}

// close stops the handler: interrupt, then kill after a grace period.
func (p *handlerProc) close() error {
	p.mu.Lock()
	if p.stopping {
		p.mu.Unlock()
		<-p.done
		return nil
	}
	p.stopping = true
	close(p.stop)
	cmd := p.cmd
	p.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		if err := cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
			_ = cmd.Process.Kill()
		}
	}
	select {
	case <-p.done:
	case <-time.After(handlerStopGrace):
		p.kill()
		<-p.done
	}
	p.conns.close()
	return nil
}
