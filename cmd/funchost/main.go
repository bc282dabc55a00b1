// Command funchost runs the app's functions locally the way the Azure
// Functions host does, for machines without Core Tools:
//
//	funchost -script-root dist/app -addr 127.0.0.1:7071 [-instance host-1]
//
// Several instances on the same app and lease container share the change
// feed leases, as the instances of a function app do.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
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
	expiry := fs.Duration("lease-expiration", 0, "override every cosmosDBTrigger's leaseExpirationInterval (0 = use function.json)")
	instance := fs.String("instance", "", "this instance's change feed lease owner id; instances sharing a lease container need distinct ids (default: a new UUID)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	h, err := funchost.New(funchost.Config{ScriptRoot: *root, Addr: *addr, FeedPollDelay: *poll,
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
