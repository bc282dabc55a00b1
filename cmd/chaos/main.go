// Command chaos runs orders through a durable local stack (a dist/devstack
// process) while it injects Cosmos DB 429s, 503s and latency, a Service Bus
// outage, and kill -9 of the handler, of the Service Bus emulator and of
// the whole stack, then audits the result (see internal/chaos). It exits
// non-zero if a promise did not hold. `make chaos` builds and runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/ordersflow/orderpipeline/internal/chaos"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
}

func realMain(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	cfg := chaos.Config{Out: out}
	fs.IntVar(&cfg.Orders, "orders", 10000, "orders to place")
	fs.IntVar(&cfg.Clients, "clients", 32, "concurrent shoppers")
	fs.StringVar(&cfg.Devstack, "devstack", "dist/devstack", "devstack binary")
	fs.StringVar(&cfg.App, "app", "dist/app", "staged app (make build)")
	data := fs.String("data", "dist/chaos/data", "the stack's data directory; deleted first (kept afterwards for a look)")
	fs.DurationVar(&cfg.Settle, "settle", 10*time.Minute, "how long orders may take to finish after the last is placed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	app, err := filepath.Abs(cfg.App)
	if err != nil {
		return err
	}
	cfg.App = app
	if err := os.RemoveAll(*data); err != nil {
		return err
	}
	cfg.DataDir = *data
	report, err := chaos.Run(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\n%d orders accepted (%d stored), %d checkout retries, %d faults injected, %d dead letters replayed, in %s\n",
		report.Orders, report.Stored, report.Retries, len(report.Injected), report.Replayed, report.Took.Round(time.Second))
	if failed := report.Failed(); len(failed) > 0 {
		return fmt.Errorf("%d of %d checks failed", len(failed), len(report.Checks))
	}
	fmt.Fprintf(out, "all %d checks passed\n", len(report.Checks))
	return nil
}
