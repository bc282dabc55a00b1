// Command devstack runs the order pipeline on the embedded local stack:
// the Cosmos DB emulator, the Service Bus emulator and the local Functions
// host. `make run` builds the app and starts it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/ordersflow/orderpipeline/emulators/devstack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(1)
	}
}

func realMain(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("devstack", flag.ContinueOnError)
	app := fs.String("app", "dist/app", "staged app directory (make build)")
	port := fs.Int("port", envInt("PORT", 7071), "Functions host port (0 picks one); env PORT")
	data := fs.String("data", envOr("DATA", ".data"), "data directory, kept between runs (empty: in memory); env DATA")
	cosmosPort := fs.Int("cosmos-port", 0, "Cosmos DB emulator port (0 picks one)")
	poll := fs.Duration("feed-poll-delay", 50*time.Millisecond, "change feed poll delay for every trigger")
	leaseExpiry := fs.Duration("lease-expiration", 10*time.Second, "change feed lease expiration for every trigger (a restart after a crash waits this long)")
	logLevel := fs.String("log-level", "warn", "the handler's LOG_LEVEL")
	bus := fs.String("servicebus", "", "connection string of a running Service Bus (empty: start the emulator)")
	hosts := fs.Int("hosts", envInt("HOSTS", 1), "Functions host instances; more than 1 runs each as its own funchost process behind one round-robin port; env HOSTS")
	funcHost := fs.String("funchost", "", "the funchost binary for -hosts > 1 (default: next to this executable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := devstack.Start(ctx, devstack.Options{AppDir: *app, DataDir: *data, FeedPollDelay: *poll, LeaseExpiration: *leaseExpiry, LogLevel: *logLevel, ServiceBus: *bus,
		Hosts: *hosts, FuncHost: *funcHost,
		Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)), CosmosAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(*cosmosPort))})
	if err != nil {
		return err
	}
	banner(out, st, *data)
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "devstack: stopping")
	return st.Close()
}

func banner(w io.Writer, st *devstack.Stack, data string) {
	if data == "" {
		data = "(in memory)"
	}
	fmt.Fprintf(w, "\nLocal stack is up. Data: %s (kept between runs). Ctrl-C stops everything.\n\n", data)
	fmt.Fprintf(w, "FUNCTIONS_URL=%s\n", st.URL())
	for _, in := range st.Instances() {
		fmt.Fprintf(w, "INSTANCE=%s pid=%d url=%s\n", in.Name, in.PID, in.URL)
	}
	fmt.Fprintf(w, "COSMOS_ENDPOINT=%s\n", st.CosmosEndpoint())
	settings := st.Settings()
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintln(w, "\nApp settings (what a client or local.settings.json needs):")
	for _, k := range keys {
		fmt.Fprintf(w, "  %s=%s\n", k, settings[k])
	}
	fmt.Fprintf(w, "\nTry:\n  curl -s %s/api/products\n", st.URL())
	fmt.Fprintf(w, "  curl -si -X POST %s/api/orders -H 'Content-Type: application/json' \\\n", st.URL())
	fmt.Fprintln(w, `    -d '{"customerId":"c-1","currency":"USD","lines":[{"sku":"MUG-CLASSIC","quantity":2}],"shipTo":{"country":"US","region":"CA","postalCode":"94103"},"payment":{"token":"tok_visa"}}'`)
	fmt.Fprintln(w)
}

func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

func envInt(key string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(key)); err == nil {
		return n
	}
	return def
}
