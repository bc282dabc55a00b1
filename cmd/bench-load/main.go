// Command bench-load drives the order pipeline's checkout on a durable
// local stack and measures the whole pipeline: checkout throughput and
// latency, end-to-end throughput and placed→final latency from the server's
// event times, the backlog of each stage and how fast it drains, CPU time
// per order of every process of the stack, request units per order by
// function, and the Cosmos DB emulator's raw create rate in the same run.
//
//	bench-load [-clients 64 | -rate 300] [-orders 3000 | -duration 30s] [-base URL -cosmos CONN [-pid PID]]
//	bench-load -vs DIR [-pairs 3] [load flags]
//
// By default it starts devstack (-devstack, built by make bench-load) on a
// fresh data directory. It prints a progress line a second and a report,
// and writes the time series to -out as CSV and SVG, and the report as JSON.
// With -vs it compares two builds under the same load instead (pairs.go).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
	"github.com/ordersflow/orderpipeline/emulators/devstack"
)

func main() {
	cosmos.TuneRuntime() // as cosmos-bench does, for the raw create benchmark
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench-load:", err)
		os.Exit(1)
	}
}

type config struct {
	app, devstack    string
	base, cosmos     string
	pid              int
	clients          int
	rate             float64
	orders           int
	duration         time.Duration
	declined         float64
	exhaust          bool
	seed             uint64
	feedPollDelay    time.Duration
	drainTimeout     time.Duration
	ru               bool
	checkoutOnly     bool
	yieldCheckouts   int  // STAGE_YIELD_CHECKOUTS; -1 leaves it unset
	keys             bool // an Idempotency-Key on every order
	rawClients       int
	rawDuration      time.Duration
	out              string
	pprofDir         string
	pprofSeconds     int
	database         string
	ordersC, leasesC string
	vs               string // -vs: the tree of build A of a comparison
	pairs            int
	tree             string // the directory devstack runs in ("" this one's): a comparison's A runs in its own tree
}

func parseConfig(args []string) (config, error) {
	fs := flag.NewFlagSet("bench-load", flag.ContinueOnError)
	var c config
	fs.StringVar(&c.app, "app", "dist/app", "staged app directory (make build)")
	fs.StringVar(&c.devstack, "devstack", "dist/devstack", "devstack binary to start the stack with")
	fs.StringVar(&c.base, "base", "", "Functions URL of a running stack (e.g. make run's); empty starts a fresh one")
	fs.StringVar(&c.cosmos, "cosmos", "", "with -base: the stack's Cosmos DB connection string (the COSMOS= line of make run's banner)")
	fs.IntVar(&c.pid, "pid", 0, "with -base: devstack's pid, to measure the CPU time of it and its children")
	fs.IntVar(&c.clients, "clients", 64, "concurrent clients (closed loop); with -rate, the most requests in flight")
	fs.Float64Var(&c.rate, "rate", 0, "arrival rate in orders/s (open loop); 0 is closed loop")
	fs.IntVar(&c.orders, "orders", 3000, "orders to place (0: no limit, use -duration)")
	fs.DurationVar(&c.duration, "duration", 0, "how long to place orders (0: until -orders are placed)")
	fs.Float64Var(&c.declined, "declined", 0.05, "share of orders paid with tok_declined")
	fs.BoolVar(&c.exhaust, "exhaust", false, "order SKUs even when their stock is promised already (some orders then fail fulfilment)")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the order mix")
	fs.DurationVar(&c.feedPollDelay, "feed-poll-delay", devstack.DefaultFeedPollDelay, "devstack -feed-poll-delay")
	fs.DurationVar(&c.drainTimeout, "drain-timeout", 2*time.Minute, "how long to wait for the backlog to drain after the load")
	fs.BoolVar(&c.keys, "keys", false, "send a fresh Idempotency-Key with every order, as a client that retries safely does (checkout then writes an idempotency record too)")
	fs.BoolVar(&c.checkoutOnly, "checkout-only", false, "disable the change feed functions (AzureWebJobs.<name>.Disabled) to measure checkout on its own: no end-to-end figures")
	fs.IntVar(&c.yieldCheckouts, "yield-checkouts", -1, "start the stack with STAGE_YIELD_CHECKOUTS set to this (the stages give way while as many checkouts are in flight; 0 never); -1 leaves it unset: the handler's default, 16")
	fs.BoolVar(&c.ru, "ru", true, "collect request units by function from the handler's log (runs the handler at LOG_LEVEL=info)")
	fs.IntVar(&c.rawClients, "raw-clients", 32, "SDK clients of the raw Cosmos emulator create benchmark")
	fs.DurationVar(&c.rawDuration, "raw-duration", 3*time.Second, "how long the raw create benchmark runs (0 skips it)")
	fs.StringVar(&c.out, "out", "dist/bench", "directory for load.csv, load.svg and report.json")
	fs.StringVar(&c.pprofDir, "pprof-dir", "", "profile the stack's processes and this one under load into this directory (devstack, handler and bench-load pprof, node .cpuprofile)")
	fs.IntVar(&c.pprofSeconds, "pprof-seconds", 15, "length of the CPU profiles taken with -pprof-dir")
	fs.StringVar(&c.vs, "vs", "", "compare with another build: the tree holding its dist/app and dist/devstack (A; this run's -app and -devstack are B), in -pairs alternating pairs of runs, each on a fresh stack (make bench-ab)")
	fs.IntVar(&c.pairs, "pairs", 3, "with -vs: pairs of runs")
	fs.StringVar(&c.database, "database", "commerce", "with -base: the Cosmos DB database")
	fs.StringVar(&c.ordersC, "orders-container", "orders", "with -base: the orders container")
	fs.StringVar(&c.leasesC, "leases-container", "leases", "with -base: the leases container")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	return c, c.validate()
}

func (c config) validate() error {
	switch {
	case c.orders <= 0 && c.duration <= 0:
		return errors.New("give -orders or -duration")
	case c.clients < 1:
		return errors.New("-clients must be at least 1")
	case c.rate < 0:
		return errors.New("-rate must not be negative")
	case c.declined < 0 || c.declined > 1:
		return errors.New("-declined is a share between 0 and 1")
	case c.base != "" && c.cosmos == "":
		return errors.New("-base needs -cosmos (the COSMOS= line of the stack's banner) to follow the orders")
	case c.base != "" && c.pprofDir != "":
		return errors.New("-pprof-dir needs a stack this command starts (no -base)")
	case c.base != "" && c.checkoutOnly:
		return errors.New("-checkout-only needs a stack this command starts (no -base)")
	case c.vs != "" && (c.base != "" || c.pprofDir != ""):
		return errors.New("-vs starts a fresh stack for every run: it takes neither -base nor -pprof-dir")
	case c.vs != "" && (c.pairs < 1 || c.pairs > 20):
		return errors.New("-pairs is a whole number from 1 to 20")
	case c.yieldCheckouts < -1 || c.yieldCheckouts > 1024:
		return errors.New("-yield-checkouts is a whole number from 0 to 1024, or -1 for the handler's default")
	case c.base != "" && c.yieldCheckouts >= 0:
		return errors.New("-yield-checkouts needs a stack this command starts (no -base): set STAGE_YIELD_CHECKOUTS on the running stack instead")
	}
	return nil
}

func realMain(ctx context.Context, args []string, out io.Writer) error {
	cfg, err := parseConfig(args)
	if err != nil {
		return err
	}
	if cfg.vs != "" {
		return runPairs(ctx, cfg, out)
	}
	st, cleanup, err := openStack(ctx, cfg)
	if err != nil {
		return err
	}
	rep, runErr := run(ctx, cfg, st, out)
	if err := cleanup(); err != nil && runErr == nil {
		runErr = err
	}
	if runErr != nil {
		return runErr
	}
	rep.print(out)
	return rep.write(cfg.out, out)
}

// openStack starts a fresh stack, or describes the running one of -base.
func openStack(ctx context.Context, cfg config) (*stack, func() error, error) {
	if cfg.base != "" {
		st := &stack{url: cfg.base, cosmos: cfg.cosmos, pid: cfg.pid, setting: map[string]string{
			"COSMOS_DATABASE": cfg.database, "ORDERS_CONTAINER": cfg.ordersC, "LEASES_CONTAINER": cfg.leasesC}}
		return st, func() error { return nil }, nil
	}
	data, err := os.MkdirTemp("", "bench-load-")
	if err != nil {
		return nil, nil, err
	}
	st, err := startStack(ctx, cfg, data)
	if err != nil {
		return nil, nil, errors.Join(err, os.RemoveAll(data))
	}
	return st, func() error { return errors.Join(st.close(), os.RemoveAll(data)) }, nil
}
