package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
)

// runSplit is `cosmos-emulator split`: it asks a running emulator to split
// one partition key range of a container in two, as Cosmos DB does when a
// partition outgrows its throughput or storage, and prints the children.
func runSplit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cosmos-emulator split", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ctl := cosmos.ControlClient{}
	var req cosmos.SplitRequest
	fs.StringVar(&ctl.Endpoint, "endpoint", "http://127.0.0.1:8081/", "the emulator's endpoint (COSMOS_ENDPOINT)")
	fs.StringVar(&ctl.Key, "key", cosmos.DefaultKey, "the emulator's account key")
	fs.StringVar(&req.Database, "db", "", "database id")
	fs.StringVar(&req.Container, "container", "", "container id")
	fs.StringVar(&req.Range, "range", "", "id of the partition key range to split")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 || req.Database == "" || req.Container == "" || req.Range == "" {
		return fmt.Errorf("split needs -db, -container and -range, and no other arguments")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := ctl.Split(ctx, req)
	if err != nil {
		return err
	}
	for _, c := range res.Children {
		if _, err := fmt.Fprintf(stdout, "range %s split: child %s [%q, %q)\n", res.Parent, c.ID, c.MinInclusive, c.MaxExclusive); err != nil {
			return err
		}
	}
	return nil
}
