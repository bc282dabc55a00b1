// Command trace prints an order's trace as an indented timeline, from the
// local OTLP receiver that `make run TRACE=1` starts: where the order's time
// went, stage by stage, Cosmos DB call by call.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/ordersflow/orderpipeline/emulators/otlp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := realMain(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "trace:", err)
		os.Exit(1)
	}
}

func realMain(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("trace", flag.ContinueOnError)
	id := fs.String("order", "", "order id (ord_…)")
	receiver := fs.String("receiver", envOr("OTLP_RECEIVER", "http://127.0.0.1:4318"), "the local OTLP receiver; env OTLP_RECEIVER")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *id == "" {
		return fmt.Errorf("-order is required (make trace ORDER=ord_…)")
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	spans, err := otlp.Fetch(ctx, *receiver, *id)
	if err != nil {
		return fmt.Errorf("order %s: %w", *id, err)
	}
	fmt.Fprintf(out, "order %s: %d spans\n", *id, len(spans))
	otlp.Timeline(out, spans)
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
