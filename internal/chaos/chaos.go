// Package chaos runs orders through a local stack (a devstack process)
// while it injects the faults production brings: Cosmos DB throttling,
// errors and latency, a Service Bus outage, kill -9 of the handler, of the
// Service Bus emulator and of the whole stack. Then it audits what the
// pipeline promised: every order final, charged at most once and refunded
// when cancelled, every event once and in sequence, stock that adds up,
// every event on each subscription exactly once, no dead letter left.
// `make chaos` (cmd/chaos) and e2e's TestChaos run it.
package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Config says what to run.
type Config struct {
	Devstack string        // the devstack binary (make chaos builds dist/devstack)
	App      string        // the staged app (make build)
	DataDir  string        // the stack's data; must not exist or be empty
	Orders   int           // how many orders; default 10,000
	Clients  int           // concurrent shoppers; default 32
	Settle   time.Duration // how long orders may take to finish after the last is placed; default 10m
	Out      io.Writer     // the report; default os.Stdout
	Log      io.Writer     // devstack's console; default a file in DataDir's parent
}

// Report is what a run injected and found.
type Report struct {
	Orders   int // orders accepted by the API
	Stored   int // orders in Cosmos DB
	Retries  int // checkout attempts beyond the first
	Injected []string
	Replayed int            // dead letters replayed
	Statuses map[string]int // stored orders by status
	Refunds  int            // refunds in the payments ledger
	Checks   []Check
	Took     time.Duration
}

// Check is one promise and whether it held.
type Check struct {
	Name   string
	OK     bool
	Detail string
}

// Failed lists the checks that did not hold.
func (r Report) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

type run struct {
	cfg   Config
	stack *stack
	shop  *shop

	accepted atomic.Int64
	mu       sync.Mutex
	ids      map[string]string // idempotency key → order id
	report   Report
}

// Run runs the scenario and audits the result. An error means the run
// could not be carried out; broken promises are failed Checks.
func Run(ctx context.Context, cfg Config) (Report, error) {
	closeLog, err := cfg.defaults()
	if err != nil {
		return Report{}, err
	}
	defer closeLog()
	st, err := newStack(cfg.Devstack, cfg.App, cfg.DataDir, cfg.Log)
	if err != nil {
		return Report{}, err
	}
	r := &run{cfg: cfg, stack: st, ids: map[string]string{}}
	start := time.Now()
	if err := st.start(ctx); err != nil {
		return Report{}, err
	}
	defer st.stop()
	r.shop = newShop(st.url, st.master)
	r.logf("chaos: %d orders from %d clients against %s (data %s)", cfg.Orders, cfg.Clients, st.url, cfg.DataDir)
	r.printSchedule()
	if err := r.load(ctx); err != nil {
		return r.report, err
	}
	if err := r.audit(ctx); err != nil {
		return r.report, err
	}
	r.report.Took = time.Since(start)
	return r.report, nil
}

// defaults fills in what cfg leaves out; the func closes the log file it
// may have opened.
func (c *Config) defaults() (func(), error) {
	if c.Devstack == "" || c.App == "" || c.DataDir == "" {
		return nil, errors.New("chaos: Devstack, App and DataDir are required")
	}
	if entries, err := os.ReadDir(c.DataDir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("chaos: data dir %s is not empty (the audit needs a fresh stack)", c.DataDir)
	}
	if c.Orders <= 0 {
		c.Orders = 10000
	}
	if c.Clients <= 0 {
		c.Clients = 32
	}
	if c.Settle <= 0 {
		c.Settle = 10 * time.Minute
	}
	if c.Out == nil {
		c.Out = os.Stdout
	}
	if c.Log != nil {
		return func() {}, nil
	}
	if err := os.MkdirAll(filepath.Dir(c.DataDir), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Clean(c.DataDir) + ".devstack.log")
	if err != nil {
		return nil, err
	}
	c.Log = f
	return func() { _ = f.Close() }, nil
}

func (r *run) logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.cfg.Out, format+"\n", args...)
}

func (r *run) printSchedule() {
	r.logf("schedule (by share of orders accepted):")
	for _, s := range schedule() {
		r.logf("  at %3.0f%%: %s", s.At*100, s.What)
	}
}

// load places every order from cfg.Clients shoppers while the schedule
// runs its injections as the accepted count passes each step.
func (r *run) load(ctx context.Context) error {
	inject, placed := make(chan error, 1), make(chan struct{})
	go func() { inject <- r.inject(ctx, placed) }()
	jobs := make(chan int)
	errs := make(chan error, r.cfg.Clients)
	var wg sync.WaitGroup
	for range r.cfg.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- r.shopper(ctx, jobs)
		}()
	}
	for i := range r.cfg.Orders {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(placed)
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	all = append(all, <-inject)
	r.report.Orders = int(r.accepted.Load())
	r.logf("placed: %d orders accepted, %d checkout retries", r.report.Orders, r.report.Retries)
	return errors.Join(all...)
}

// orderTimeout bounds one checkout's retries, long enough for a restart.
const orderTimeout = 5 * time.Minute

func (r *run) shopper(ctx context.Context, jobs <-chan int) error {
	var errs []error
	for i := range jobs {
		key := idempotencyKey(i)
		octx, cancel := context.WithTimeout(ctx, orderTimeout)
		id, attempts, err := r.shop.place(octx, key, checkoutBody(i))
		cancel()
		r.mu.Lock()
		r.report.Retries += attempts - 1
		if err == nil {
			r.ids[key] = id
		}
		r.mu.Unlock()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.accepted.Add(1)
	}
	return errors.Join(errs...)
}

func idempotencyKey(i int) string { return fmt.Sprintf("chaos-%05d", i) }

// inject runs each step once its share of orders has been accepted.
func (r *run) inject(ctx context.Context, placed <-chan struct{}) error {
	for _, s := range schedule() {
		for float64(r.accepted.Load()) < s.At*float64(r.cfg.Orders) {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-placed:
				return fmt.Errorf("every order placed before %q was due", s.What)
			case <-time.After(20 * time.Millisecond):
			}
		}
		r.logf("%s inject at %d accepted: %s", time.Now().UTC().Format("15:04:05"), r.accepted.Load(), s.What)
		if err := s.do(ctx, r); err != nil {
			return fmt.Errorf("inject %q: %w", s.What, err)
		}
		r.mu.Lock()
		r.report.Injected = append(r.report.Injected, s.What)
		r.mu.Unlock()
	}
	return nil
}
