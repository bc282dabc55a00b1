package main

import (
	"context"
	"time"

	"github.com/ordersflow/orderpipeline/cmd/internal/cosmosload"
	"github.com/ordersflow/orderpipeline/emulators/cosmos"
)

// rawCreates is the Cosmos DB emulator's own create rate: a fresh
// in-memory emulator in this process, driven as cmd/cosmos-bench does.
type rawCreates struct {
	Clients int     `json:"clients"`
	Items   int     `json:"items"`
	Seconds float64 `json:"seconds"`
	PerSec  float64 `json:"perSecond"`
}

func measureRawCreates(ctx context.Context, clients int, d time.Duration) (*rawCreates, error) {
	srv, err := cosmos.Start(cosmos.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	l, err := cosmosload.New(ctx, srv.ConnectionString(), clients, nil)
	if err != nil {
		return nil, err
	}
	n, took, err := l.Creates(ctx, d)
	if err != nil {
		return nil, err
	}
	return &rawCreates{Clients: clients, Items: n, Seconds: took.Seconds(), PerSec: float64(n) / took.Seconds()}, nil
}
