package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ordersflow/orderpipeline/cmd/internal/cosmosload"
	"github.com/ordersflow/orderpipeline/emulators/cosmos"
)

// cosmiumKey is cosmium's default account key (api/config DefaultAccountKey
// in v0.1.20), the well-known key of Microsoft's emulator.
const cosmiumKey = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="

// serveFlag makes this binary serve the in-memory emulator until its stdin
// closes: compare runs it as the other process.
const serveFlag = "-serve-memory-emulator"

// server is an emulator running in a process of its own.
type server struct {
	name, conn string
	cmd        *exec.Cmd
	stdin      io.Closer
}

// compare creates items in our emulator and in cosmium, each in its own
// process and in memory, from SDK clients in this process: an unmeasured
// warm-up of each, then rounds that alternate, with the seats rotating,
// so that both see the same machine. It prints creates/s of each, CPU per
// 1000 creates, and the ratio.
func compare(ctx context.Context, cfg config, cosmiumPath string, out io.Writer) error {
	ours, err := startOurs()
	if err != nil {
		return err
	}
	defer ours.stop()
	theirs, err := startCosmium(ctx, cosmiumPath)
	if err != nil {
		return err
	}
	defer theirs.stop()
	servers := []*server{ours, theirs}
	loads := make([]*cosmosload.Load, len(servers))
	for i, s := range servers {
		if loads[i], err = cosmosload.New(ctx, s.conn, cfg.clients, nil); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return runRounds(ctx, cfg, servers, loads, out)
}

func runRounds(ctx context.Context, cfg config, servers []*server, loads []*cosmosload.Load, out io.Writer) error {
	items := make([]int, len(servers))
	secs := make([]float64, len(servers))
	cpu := make([]time.Duration, len(servers))
	if err := warmUp(ctx, cfg, servers, loads); err != nil {
		return err
	}
	fmt.Fprintf(out, "%-10s %-6s %10s %8s %12s %14s\n", "emulator", "round", "creates", "seconds", "creates/s", "CPU ms/1000")
	for round := 1; round <= cfg.rounds; round++ {
		for _, i := range seats(round, len(servers)) {
			s := servers[i]
			before := processCPU(s.cmd.Process.Pid)
			n, took, err := loads[i].Creates(ctx, cfg.duration)
			if err != nil {
				return fmt.Errorf("%s: create: %w", s.name, err)
			}
			used := processCPU(s.cmd.Process.Pid) - before
			items[i], secs[i], cpu[i] = items[i]+n, secs[i]+took.Seconds(), cpu[i]+used
			fmt.Fprintf(out, "%-10s %-6d %10d %8.2f %12.0f %14.1f\n", s.name, round, n, took.Seconds(), float64(n)/took.Seconds(), perThousand(used, n))
		}
	}
	rate := func(i int) float64 { return float64(items[i]) / secs[i] }
	for i, s := range servers {
		fmt.Fprintf(out, "%-10s %-6s %10d %8.2f %12.0f %14.1f\n", s.name, "all", items[i], secs[i], rate(i), perThousand(cpu[i], items[i]))
	}
	fmt.Fprintf(out, "ours / cosmium: %.2fx creates/s with %d clients (target 1.2x)\n", rate(0)/rate(1), cfg.clients)
	return nil
}

// warmUp runs each emulator, unmeasured, for a third of a round, so that
// neither is measured with cold connections, caches and heap.
func warmUp(ctx context.Context, cfg config, servers []*server, loads []*cosmosload.Load) error {
	for i, s := range servers {
		if _, _, err := loads[i].Creates(ctx, cfg.duration/3); err != nil {
			return fmt.Errorf("%s: warm up: %w", s.name, err)
		}
	}
	return nil
}

// seats is the order the emulators run in a round: it rotates every round,
// so that none always goes first or last.
func seats(round, n int) []int {
	order := make([]int, n)
	for i := range order {
		order[i] = (i + round - 1) % n
	}
	return order
}

func perThousand(d time.Duration, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(d.Milliseconds()) * 1000 / float64(n)
}

// processCPU is utime+stime of pid from /proc (0 where there is no /proc).
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * 10 * time.Millisecond // USER_HZ is 100
}

// startOurs runs this binary with serveFlag and reads the endpoint it prints.
func startOurs() (*server, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, serveFlag)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{name: "ours", cmd: cmd, stdin: stdin}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	endpoint, ok := strings.CutPrefix(strings.TrimSpace(line), "COSMOS_ENDPOINT=")
	if err != nil || !ok {
		s.stop()
		return nil, fmt.Errorf("our emulator did not announce its endpoint: %q %v", line, err)
	}
	s.conn = "AccountEndpoint=" + endpoint + ";AccountKey=" + cosmos.DefaultKey + ";"
	return s, nil
}

// serveMemory is the other process of compare: our emulator, in memory,
// tuned as cmd/cosmos-emulator is, until stdin closes.
func serveMemory() error {
	srv, err := cosmos.Start(cosmos.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Printf("COSMOS_ENDPOINT=%s\n", srv.Endpoint())
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}

// startCosmium runs cosmium over plain HTTP on a free port and waits until
// it answers. cosmium v0.1.20 listens on every interface (":PORT"); -Host
// only names the endpoint it advertises.
func startCosmium(ctx context.Context, path string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, "-Host", "127.0.0.1", "-Port", strconv.Itoa(port), "-DisableTls", "-LogLevel", "silent")
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start cosmium %s (build it with cmd/cosmos-bench/build-cosmium.sh): %w", path, err)
	}
	s := &server{name: "cosmium", cmd: cmd}
	endpoint := fmt.Sprintf("http://127.0.0.1:%d/", port)
	if err := waitHTTP(ctx, endpoint, 15*time.Second); err != nil {
		s.stop()
		return nil, fmt.Errorf("cosmium: %w", err)
	}
	s.conn = "AccountEndpoint=" + endpoint + ";AccountKey=" + cosmiumKey + ";"
	return s, nil
}

func waitHTTP(ctx context.Context, url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return errors.Join(fmt.Errorf("%s did not answer within %s", url, limit), err)
		}
		time.Sleep(50 * time.Millisecond)
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

func (s *server) stop() {
	if s.stdin != nil {
		_ = s.stdin.Close()
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}
