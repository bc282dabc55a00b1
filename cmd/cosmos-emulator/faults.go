package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
)

const faultsUsage = `usage: cosmos-emulator faults [-endpoint URL] [-key KEY] [-insecure] COMMAND

Commands, against a running emulator's control endpoint:
  list                     the active faults, as JSON
  clear                    end every fault
  budgets                  throughput budgets and how many requests each throttled
  add [flags]              start a fault:
      -op read|write|query|batch|changefeed|metadata   (default: every operation)
      -container ID        (default: every container)
      -status 408|429|449|500|503 -rate 0..1
      -latency 200ms       added to every matching request
      -for 30s             the fault ends after this long (default: until cleared)
      -retry-after 100ms   with 429: x-ms-retry-after-ms
  unavailable -for 10s [-container ID]   answer 503 to everything for a while
  split -container ID [-range ID] [-after 30s]
                           split a partition key range (default: the widest)
                           of the container, at once or after a while
`

// faultsCommand runs "cosmos-emulator faults ...".
func faultsCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cosmos-emulator faults", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, faultsUsage) }
	endpoint := fs.String("endpoint", envOr("COSMOS_ENDPOINT", "http://127.0.0.1:8081/"), "the emulator's endpoint; env COSMOS_ENDPOINT")
	key := fs.String("key", cosmos.DefaultKey, "the emulator's account key")
	insecure := fs.Bool("insecure", false, "accept the emulator's self-signed certificate")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errors.New("faults: a command is required")
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	if *insecure {
		hc.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // opt-in, for the emulator's own certificate
	}
	fc := cosmos.NewFaultClient(*endpoint, *key, hc)
	return runFaults(ctx, fc, fs.Arg(0), fs.Args()[1:], stdout, stderr)
}

func runFaults(ctx context.Context, fc *cosmos.FaultClient, cmd string, args []string, stdout, stderr io.Writer) error {
	switch cmd {
	case "list":
		return printJSON[[]cosmos.FaultState](stdout)(fc.List(ctx))
	case "budgets":
		return printJSON[[]cosmos.BudgetStats](stdout)(fc.Budgets(ctx))
	case "clear":
		return fc.Clear(ctx)
	case "add", "unavailable", "split":
		f, err := parseFault(cmd, args, stderr)
		if err != nil {
			return err
		}
		return printJSON[cosmos.FaultState](stdout)(fc.Inject(ctx, f))
	}
	return fmt.Errorf("faults: unknown command %q (list, clear, budgets, add, unavailable, split)", cmd)
}

func parseFault(cmd string, args []string, stderr io.Writer) (cosmos.Fault, error) {
	fs := flag.NewFlagSet("cosmos-emulator faults "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f cosmos.Fault
	var latency, lasting, retryAfter, after time.Duration
	fs.StringVar(&f.Container, "container", "", "container id (default: every container)")
	if cmd == "split" {
		fs.StringVar(&f.Range, "range", "", "the range id (default: the widest live range)")
		fs.DurationVar(&after, "after", 0, "split this long from now (default: at once)")
	} else {
		fs.DurationVar(&lasting, "for", 0, "the fault ends after this long (default: until cleared)")
	}
	if cmd == "add" {
		fs.StringVar(&f.Op, "op", "", "read, write, query, batch, changefeed or metadata (default: every operation)")
		fs.IntVar(&f.Status, "status", 0, "408, 429, 449, 500 or 503")
		fs.Float64Var(&f.Rate, "rate", 0, "with -status: the fraction of matching requests that fail")
		fs.DurationVar(&latency, "latency", 0, "added to every matching request")
		fs.DurationVar(&retryAfter, "retry-after", 0, "with -status 429: x-ms-retry-after-ms")
	}
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("faults %s: unexpected arguments %v", cmd, fs.Args())
	}
	if cmd == "split" {
		f.Split, f.After = true, cosmos.Duration(after)
		return f, nil
	}
	if cmd == "unavailable" {
		if lasting <= 0 {
			return f, errors.New("faults unavailable: -for is required")
		}
		return cosmos.Unavailable(f.Container, lasting), nil
	}
	f.Latency, f.For, f.RetryAfter = cosmos.Duration(latency), cosmos.Duration(lasting), cosmos.Duration(retryAfter)
	return f, nil
}

// printJSON writes a result as indented JSON, or returns its error.
func printJSON[T any](w io.Writer) func(T, error) error {
	return func(v T, err error) error {
		if err != nil {
			return err
		}
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(w, string(b))
		return err
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
