// Command cosmos-bench measures the embedded Cosmos DB emulator through the
// azcosmos SDK in the same process: point creates and point reads from
// concurrent SDK clients, and change feed reads, in memory and with a data
// directory. It prints items/s for each.
//
// With -cosmium it instead compares point creates against cosmium v0.1.20
// (github.com/pikami/cosmium): each emulator in memory in a process of its
// own, driven over HTTP by the same SDK clients from this process.
//
//	go run ./cmd/cosmos-bench [-clients 32] [-duration 3s]
//	go run ./cmd/cosmos-bench -cosmium /tmp/cosmium [-rounds 3]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/ordersflow/orderpipeline/cmd/internal/cosmosload"
	"github.com/ordersflow/orderpipeline/emulators/cosmos"
)

func main() {
	cosmos.TuneRuntime()
	if len(os.Args) == 2 && os.Args[1] == serveFlag {
		if err := serveMemory(); err != nil {
			fmt.Fprintln(os.Stderr, "cosmos-bench emulator:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "cosmos-bench:", err)
		os.Exit(1)
	}
}

type config struct {
	clients  int
	duration time.Duration
	rounds   int
}

func realMain(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("cosmos-bench", flag.ContinueOnError)
	var cfg config
	fs.IntVar(&cfg.clients, "clients", 32, "concurrent SDK clients for point operations")
	fs.DurationVar(&cfg.duration, "duration", 3*time.Second, "how long each point operation runs")
	stores := fs.String("stores", "memory,durable", "which stores to measure")
	profile := fs.String("cpuprofile", "", "write a CPU profile to this file")
	cosmium := fs.String("cosmium", "", "compare creates/s with cosmium: path of its server binary (cmd/cosmos-bench/build-cosmium.sh builds it)")
	fs.IntVar(&cfg.rounds, "rounds", 3, "with -cosmium: rounds of -duration per emulator, alternating")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *profile != "" {
		stopProfile, err := startProfile(*profile)
		if err != nil {
			return err
		}
		defer stopProfile()
	}
	if *cosmium != "" {
		return compare(ctx, cfg, *cosmium, out)
	}
	fmt.Fprintf(out, "%-8s %-26s %10s %8s %12s\n", "store", "operation", "items", "seconds", "items/s")
	for _, mode := range strings.Split(*stores, ",") {
		if err := benchMode(ctx, cfg, mode, out); err != nil {
			return fmt.Errorf("%s: %w", mode, err)
		}
	}
	return nil
}

func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("start profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }, nil
}

func benchMode(ctx context.Context, cfg config, mode string, out io.Writer) error {
	dir := ""
	if mode == "durable" {
		tmp, err := os.MkdirTemp("", "cosmos-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	srv, err := cosmos.Start(cosmos.Options{DataDir: dir})
	if err != nil {
		return err
	}
	defer srv.Close()
	b, err := cosmosload.New(ctx, srv.ConnectionString(), cfg.clients, nil)
	if err != nil {
		return err
	}
	for _, run := range []struct {
		name string
		fn   func(context.Context, time.Duration) (int, time.Duration, error)
	}{
		{fmt.Sprintf("create (%d clients)", cfg.clients), b.Creates},
		{fmt.Sprintf("read (%d clients)", cfg.clients), b.Reads},
		{"change feed (1 reader)", b.ChangeFeed},
	} {
		n, took, err := run.fn(ctx, cfg.duration)
		if err != nil {
			return fmt.Errorf("%s: %w", run.name, err)
		}
		fmt.Fprintf(out, "%-8s %-26s %10d %8.2f %12.0f\n", mode, run.name, n, took.Seconds(), float64(n)/took.Seconds())
	}
	return nil
}
