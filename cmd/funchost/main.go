// Command funchost runs the app's functions locally the way the Azure
// Functions host does, for machines without Core Tools:
//
//	funchost -script-root dist/app -addr 127.0.0.1:7071 [-instance host-1]
//
// Like the real host it needs AzureWebJobsStorage (environment or
// local.settings.json) for its keys and primary lock; `go run ./cmd/azurite
// -- funchost ...` provides one. Several instances on the same app and lease
// container share the change feed leases, as the instances of a function
// app do.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/ordersflow/orderpipeline/emulators/funchost"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "funchost:", err)
		os.Exit(1)
	}
}

func realMain(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("funchost", flag.ContinueOnError)
	root := fs.String("script-root", ".", "staged app directory: host.json, <Function>/function.json and the handler")
	addr := fs.String("addr", funchost.DefaultAddr, "HTTP listen address")
	poll := fs.Duration("feed-poll-delay", 0, "override every cosmosDBTrigger's feedPollDelay (0 = use function.json)")
	maxBody := fs.Int64("max-request-body-size", 0, "request body limit in bytes (0 = app setting FUNCTIONS_REQUEST_BODY_SIZE_LIMIT, else 100 MB as on Azure)")
	expiry := fs.Duration("lease-expiration", 0, "override every cosmosDBTrigger's leaseExpirationInterval (0 = use function.json)")
	instance := fs.String("instance", "", "this instance's change feed lease owner id; instances sharing a lease container need distinct ids (default: a new UUID)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// The host starts the handler in the script root by a path relative to
	// it, as the real host does; that only works from an absolute root.
	abs, err := filepath.Abs(*root)
	if err != nil {
		return fmt.Errorf("script root %s: %w", *root, err)
	}
	h, err := funchost.New(funchost.Config{ScriptRoot: abs, Addr: *addr, FeedPollDelay: *poll, MaxRequestBodyBytes: *maxBody,
		LeaseExpiration: *expiry, InstanceID: *instance, Log: os.Stdout})
	if err != nil {
		return err
	}
	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := h.Start(startCtx); err != nil {
		return err
	}
	<-ctx.Done()
	fmt.Println("Stopping the host...")
	return h.Close()
}
