// Command devstack runs the order pipeline on the embedded local stack:
// the Cosmos DB emulator, the Service Bus emulator, Azurite and the local
// Functions host. `make run` builds the app and starts it.
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

	"github.com/ordersflow/orderpipeline/cmd/internal/pprofhttp"
	"github.com/ordersflow/orderpipeline/emulators/cosmos"
	"github.com/ordersflow/orderpipeline/emulators/devstack"
	"github.com/ordersflow/orderpipeline/emulators/otlp"
)

func main() {
	// This process serves the Cosmos DB emulator, so it runs with the
	// emulator's runtime settings (cmd/cosmos-emulator does the same).
	cosmos.TuneRuntime()
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
	poll := fs.Duration("feed-poll-delay", devstack.DefaultFeedPollDelay, "change feed poll delay for every trigger")
	leaseExpiry := fs.Duration("lease-expiration", 10*time.Second, "change feed lease expiration for every trigger (a restart after a crash waits this long)")
	logLevel := fs.String("log-level", envOr("LOG_LEVEL", "warn"), "the handler's LOG_LEVEL (debug logs every Cosmos DB call); env LOG_LEVEL")
	bus := fs.String("servicebus", "", "connection string of a running Service Bus (empty: start the emulator)")
	otlpAddr := fs.String("otlp", "", "start a local OTLP receiver on this address (e.g. 127.0.0.1:4318) and export the handler's traces to it; read them with make trace ORDER=…")
	prof := profiling{}
	fs.StringVar(&prof.addr, "pprof", "", "serve net/http/pprof of this process (Cosmos emulator + local host) on this loopback address, e.g. 127.0.0.1:6060")
	fs.StringVar(&prof.handlerAddr, "handler-pprof", "", "the handler's PPROF_ADDR: serve its net/http/pprof on this loopback address")
	fs.StringVar(&prof.busDir, "servicebus-cpu-prof", "", "have the Service Bus emulator's node process write a .cpuprofile into this directory when it stops")
	storage := fs.String("storage", "", "AzureWebJobsStorage of a running storage account (empty: start Azurite)")
	faultsFile := fs.String("cosmos-faults", "", "JSON file of Cosmos DB faults to inject once the stack is up (see emulators/cosmos/README.md, Fault injection)")
	hosts := fs.Int("hosts", envInt("HOSTS", 1), "Functions host instances; more than 1 runs each as its own funchost process behind one round-robin port; env HOSTS")
	funcHost := fs.String("funchost", "", "the funchost binary for -hosts > 1 (default: next to this executable)")
	busFaults := fs.Bool("servicebus-faults", false, "open the Service Bus emulator's fault control endpoint and print SERVICEBUS_CONTROL_URL (see emulators/servicebus/README.md)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	faults, err := readFaults(*faultsFile)
	if err != nil {
		return err
	}
	stopPprof, err := prof.start(out)
	if err != nil {
		return err
	}
	defer stopPprof()
	endpoint, stopReceiver, err := startReceiver(*otlpAddr)
	if err != nil {
		return err
	}
	defer stopReceiver()
	st, err := devstack.Start(ctx, devstack.Options{AppDir: *app, DataDir: *data, FeedPollDelay: *poll, LeaseExpiration: *leaseExpiry, LogLevel: *logLevel, ServiceBus: *bus, Storage: *storage,
		OTLPEndpoint: endpoint, HandlerSettings: prof.handlerSettings(), ServiceBusCPUProfileDir: prof.busDir, CosmosFaults: faults, ServiceBusFaultControl: *busFaults,
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

// profiling is the opt-in profiling of the stack's processes.
type profiling struct {
	addr, handlerAddr, busDir string
}

func (p profiling) start(out io.Writer) (func(), error) {
	if p.addr == "" {
		return func() {}, nil
	}
	srv, err := pprofhttp.Start(p.addr)
	if err != nil {
		return nil, fmt.Errorf("-pprof: %w", err)
	}
	fmt.Fprintf(out, "PPROF=http://%s/debug/pprof/\n", srv.Addr())
	return func() { _ = srv.Close() }, nil
}

func (p profiling) handlerSettings() map[string]string {
	if p.handlerAddr == "" {
		return nil
	}
	return map[string]string{"PPROF_ADDR": p.handlerAddr}
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
	if u := st.ServiceBusControlURL(); u != "" {
		fmt.Fprintf(w, "SERVICEBUS_CONTROL_URL=%s\n", u)
	}
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
	fmt.Fprintln(w, "\nKeys (kept in AzureWebJobsStorage, azure-webjobs-secrets/"+st.HostID()+"/; send as x-functions-key or ?code=):")
	fmt.Fprintf(w, "  master=%s\n  host default=%s\n", st.MasterKey(), st.HostKey())
	fmt.Fprintf(w, "\nTry:\n  curl -s %s/api/products\n", st.URL())
	fmt.Fprintf(w, "  curl -s %s/api/ops/dead-letters -H 'x-functions-key: %s'\n", st.URL(), st.FunctionKey("ListDeadLetters"))
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

// startReceiver runs the local OTLP receiver when addr is set.
func startReceiver(addr string) (endpoint string, stop func(), err error) {
	if addr == "" {
		return "", func() {}, nil
	}
	r, err := otlp.Start(addr)
	if err != nil {
		return "", nil, err
	}
	fmt.Fprintf(os.Stderr, "devstack: traces go to the local OTLP receiver at %s; print one with: make trace ORDER=<id>\n", r.Endpoint())
	return r.Endpoint(), func() { _ = r.Close() }, nil
}
