// Command cosmos-emulator serves the embedded Cosmos DB emulator:
//
//	cosmos-emulator -addr 127.0.0.1:8081 -data DIR [-tls [-cert FILE -certkey FILE]] [-key KEY]
//	                [-partitions N] [-container-partitions orders=4,db/leases=1]
//	                [-consistency Session] [-region NAME] [-region-endpoint URL]
//	cosmos-emulator split -endpoint URL -db DB -container C -range ID [-key KEY]
//
// When ready it prints exactly one line, COSMOS_ENDPOINT=<url>, on stdout.
// The split subcommand asks a running emulator to split a partition key
// range in two (see split.go).
// SIGINT or SIGTERM stop it cleanly. See package
// github.com/ordersflow/orderpipeline/emulators/cosmos for the protocol and
// the fsync policy.
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

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
)

func main() {
	cosmos.TuneRuntime()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "cosmos-emulator:", err)
		os.Exit(1)
	}
}

func parseOptions(args []string, stderr io.Writer) (cosmos.Options, error) {
	fs := flag.NewFlagSet("cosmos-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o cosmos.Options
	fs.StringVar(&o.Addr, "addr", "127.0.0.1:8081", "address to listen on (port 0 picks a free port)")
	fs.StringVar(&o.DataDir, "data", "", "data directory; empty keeps everything in memory")
	fs.BoolVar(&o.TLS, "tls", false, "serve HTTPS with a self-signed certificate (written into -data)")
	fs.StringVar(&o.CertFile, "cert", "", "with -tls: PEM certificate to serve instead of a self-signed one")
	fs.StringVar(&o.KeyFile, "certkey", "", "with -tls: PEM private key of -cert")
	fs.StringVar(&o.Key, "key", cosmos.DefaultKey, "account key (base64)")
	fs.IntVar(&o.Partitions, "partitions", 0, "physical partitions of every new container (0: one per 10,000 RU/s)")
	fs.Func("container-partitions", "per-container partitions, e.g. orders=4,db/leases=1", func(v string) error {
		m, err := parsePartitions(v)
		o.ContainerPartitions = m
		return err
	})
	fs.StringVar(&o.Consistency, "consistency", "Session", "the account's default consistency level")
	fs.StringVar(&o.Region, "region", "South Central US", "the account's region name")
	fs.StringVar(&o.RegionEndpoint, "region-endpoint", "", "the endpoint advertised for the region (default: the one each client used)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return o, nil
}

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "split" {
		return runSplit(ctx, args[1:], stdout, stderr)
	}
	opts, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	srv, err := cosmos.Start(opts)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(stdout, "COSMOS_ENDPOINT=%s\n", srv.Endpoint()); err != nil {
		return fmt.Errorf("announce endpoint: %w", err)
	}
	describe(stderr, opts, srv.Endpoint())
	<-ctx.Done()
	if err := srv.Close(); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}

// describe tells the operator (on stderr) where state and certificate live.
func describe(stderr io.Writer, o cosmos.Options, endpoint string) {
	store := "in memory"
	if o.DataDir != "" {
		store = "durable in " + o.DataDir
	}
	fmt.Fprintf(stderr, "cosmos-emulator: %s, serving %s\n", store, endpoint)
	switch {
	case o.TLS && o.CertFile != "":
		fmt.Fprintf(stderr, "cosmos-emulator: TLS certificate %s\n", o.CertFile)
	case o.TLS && o.DataDir != "":
		fmt.Fprintf(stderr, "cosmos-emulator: self-signed TLS certificate %s\n", filepath.Join(o.DataDir, cosmos.CertFileName))
	case o.TLS:
		fmt.Fprintln(stderr, "cosmos-emulator: self-signed TLS certificate kept in memory (use -data to write it out)")
	}
}
