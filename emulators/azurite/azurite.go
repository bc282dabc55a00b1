// Package azurite starts and stops Azurite, the Azure Storage emulator
// (the npm package pinned in emulators/azurite/package.json), for the
// local stack and tests: bound to 127.0.0.1 on free ports, API version
// check and telemetry off, data on disk or in memory.
package azurite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Account is Azurite's well-known development account.
const (
	Account    = "devstoreaccount1"
	AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

const stopGrace = 5 * time.Second

// Options choose where Azurite keeps its data.
type Options struct {
	RepoRoot string    // the module root (emulators/azurite is below it)
	DataDir  string    // "" keeps everything in memory
	Log      io.Writer // Azurite's own output; nil discards it
}

// Server is a running Azurite process.
type Server struct {
	cmd       *exec.Cmd
	stdin     io.WriteCloser
	endpoints map[string]string // "Blob", "Queue", "Table" -> http://127.0.0.1:PORT
	done      chan struct{}
	waitErr   error
	stopOnce  sync.Once
	stopErr   error
}

var readyRE = regexp.MustCompile(`^Azurite (Blob|Queue|Table) service is successfully listening at (http://\S+)`)

// Start runs Azurite in its own process group and returns once the blob,
// queue and table services listen. It fails clearly when `make deps` has
// not installed the package.
func Start(ctx context.Context, o Options) (*Server, error) {
	cmd, err := command(o)
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("azurite stdout: %w", err)
	}
	// Azurite exits when this pipe closes (launch.js), so it cannot outlive
	// a launcher that is killed before Stop runs.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("azurite stdin: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start azurite: %w", err)
	}
	s := &Server{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	ready := make(chan map[string]string, 1)
	go s.readStdout(stdout, ready, cmd.Stderr)
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	select {
	case s.endpoints = <-ready:
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("azurite exited before it was ready: %v", s.waitErr)
	case <-ctx.Done():
		_ = s.Stop()
		return nil, fmt.Errorf("wait for azurite: %w", ctx.Err())
	}
}

func command(o Options) (*exec.Cmd, error) {
	dir := filepath.Join(o.RepoRoot, "emulators", "azurite")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "azurite", "package.json")); err != nil {
		return nil, fmt.Errorf("azurite is not installed in %s (run: make deps): %w", dir, err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("azurite needs Node.js 20 on PATH: %w", err)
	}
	args := []string{filepath.Join(dir, "launch.js"), "--blobHost", "127.0.0.1", "--queueHost", "127.0.0.1", "--tableHost", "127.0.0.1",
		"--blobPort", "0", "--queuePort", "0", "--tablePort", "0", "--skipApiVersionCheck", "--disableTelemetry", "--silent"}
	workDir := dir
	if o.DataDir == "" {
		args = append(args, "--inMemoryPersistence", "--extentMemoryLimit", "256")
	} else {
		if err := os.MkdirAll(o.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("azurite data directory: %w", err)
		}
		args = append(args, "--location", o.DataDir)
		workDir = o.DataDir
	}
	cmd := exec.Command(node, args...)
	cmd.Dir = workDir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = o.Log
	if cmd.Stderr == nil {
		cmd.Stderr = io.Discard
	}
	return cmd, nil
}

func (s *Server) readStdout(r io.Reader, ready chan<- map[string]string, logw io.Writer) {
	sc := bufio.NewScanner(r)
	found := map[string]string{}
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintf(logw, "azurite: %s\n", line)
		if m := readyRE.FindStringSubmatch(line); m != nil {
			found[m[1]] = strings.TrimSuffix(m[2], "/")
			if len(found) == 3 {
				ready <- found
			}
		}
	}
}

// Endpoint is the base URL of one service ("Blob", "Queue" or "Table").
func (s *Server) Endpoint(service string) string { return s.endpoints[service] }

// ConnectionString is the development account's connection string with
// this instance's endpoints (what AzureWebJobsStorage takes).
func (s *Server) ConnectionString() string {
	return fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s/%s;QueueEndpoint=%s/%s;TableEndpoint=%s/%s;",
		Account, AccountKey, s.endpoints["Blob"], Account, s.endpoints["Queue"], Account, s.endpoints["Table"], Account)
}

// PID is the process id of Azurite's process group leader.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Stop sends SIGTERM to the process group, waits for it to exit, and
// sends SIGKILL after 5 s.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		pgid := s.cmd.Process.Pid
		_ = s.stdin.Close()
		if err := syscall.Kill(-pgid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
			s.stopErr = fmt.Errorf("stop azurite: %w", err)
		}
		select {
		case <-s.done:
		case <-time.After(stopGrace):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-s.done
		}
	})
	return s.stopErr
}
