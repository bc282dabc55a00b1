// Command azurite runs the project's pinned Azurite (emulators/azurite) on
// free loopback ports with its data in -data, and runs a command with
// AzureWebJobsStorage set to its connection string; Azurite stops when the
// command exits or on Ctrl-C. `make start` uses it for Core Tools:
//
//	azurite -data .data/azurite -- func start --script-root dist/app
//
// Without a command it prints the connection string and runs until Ctrl-C.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/ordersflow/orderpipeline/emulators/azurite"
	"github.com/ordersflow/orderpipeline/emulators/servicebus/sbemu"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "azurite:", err)
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			os.Exit(exit.ExitCode())
		}
		os.Exit(1)
	}
}

func realMain(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("azurite", flag.ContinueOnError)
	data := fs.String("data", ".data/azurite", "Azurite's data directory, kept between runs (empty: in memory)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	root, err := sbemu.RepoRoot()
	if err != nil {
		return err
	}
	startCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	az, err := azurite.Start(startCtx, azurite.Options{RepoRoot: root, DataDir: *data, Log: io.Discard})
	if err != nil {
		return err
	}
	defer az.Stop()
	fmt.Fprintf(out, "AzureWebJobsStorage=%s\n", az.ConnectionString())
	if fs.NArg() == 0 {
		<-ctx.Done()
		return nil
	}
	return run(ctx, fs.Args(), az.ConnectionString(), out)
}

// run starts the command with AzureWebJobsStorage in its environment (an
// environment variable wins over local.settings.json for Core Tools).
func run(ctx context.Context, argv []string, conn string, out io.Writer) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "AzureWebJobsStorage="+conn)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, out, os.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	return cmd.Run()
}
