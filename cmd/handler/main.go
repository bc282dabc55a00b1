// Command handler is the Azure Functions custom handler: the host starts it
// with FUNCTIONS_CUSTOMHANDLER_PORT and calls it over HTTP.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/ordersflow/orderpipeline/cmd/internal/pprofhttp"
	"github.com/ordersflow/orderpipeline/handlers"
	"github.com/ordersflow/orderpipeline/shared/catalog"
	"github.com/ordersflow/orderpipeline/shared/config"
	"github.com/ordersflow/orderpipeline/shared/cosmosstore"
	"github.com/ordersflow/orderpipeline/shared/eventbus"
	"github.com/ordersflow/orderpipeline/shared/payment"
	"github.com/ordersflow/orderpipeline/shared/tax"
)

// gcPercent is the handler's GOGC unless the environment sets one. Its live
// heap is small (tens of MB) and every invocation allocates its envelope and
// SDK responses afresh, so collecting at 4x growth instead of 2x halves the
// time spent in GC for a few more MB; GOGC and GOMEMLIMIT still override.
const gcPercent = 400

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := zerolog.New(os.Stderr).With().Timestamp().Str("service", "orderpipeline").Logger()
	if err := realMain(ctx, log); err != nil {
		log.Error().Err(err).Msg("handler stopped")
		os.Exit(1)
	}
}

func realMain(ctx context.Context, log zerolog.Logger) error {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return err
	}
	level, err := zerolog.ParseLevel(cfg.LogLevel)
	if err != nil {
		return fmt.Errorf("LOG_LEVEL: %w", err)
	}
	log = log.Level(level)
	stopPprof, err := startPprof(os.Getenv(pprofAddrEnv), log)
	if err != nil {
		return err
	}
	defer stopPprof()
	tel, err := newTelemetry(ctx, os.Getenv)
	if err != nil {
		return err
	}
	defer func() { _ = tel.shutdown(context.WithoutCancel(ctx)) }()
	srv, closeClients, err := build(cfg, tel, log)
	if err != nil {
		return err
	}
	defer closeClients()
	return serve(ctx, net.JoinHostPort("127.0.0.1", cfg.Port), srv, log)
}

// pprofAddrEnv, when set, serves net/http/pprof on that loopback address
// (for example 127.0.0.1:6061). It is a local profiling switch, not an app
// setting of the deployed app.
const pprofAddrEnv = "PPROF_ADDR"

func startPprof(addr string, log zerolog.Logger) (func(), error) {
	if addr == "" {
		return func() {}, nil
	}
	p, err := pprofhttp.Start(addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pprofAddrEnv, err)
	}
	log.Info().Str("addr", p.Addr()).Msg("pprof listening")
	return func() { _ = p.Close() }, nil
}

// build wires the handler from config: one Cosmos DB client and one Service
// Bus sender for the life of the process.
func build(cfg config.Config, tel *telemetry, log zerolog.Logger) (*handlers.Server, func(), error) {
	cosmos, err := newCosmosClient(cfg.Cosmos, tel.azure)
	if err != nil {
		return nil, nil, err
	}
	store, err := cosmosstore.New(cosmos, cfg.Database, cfg.Containers, cosmosstore.Options{Observe: handlers.ObserveCharge})
	if err != nil {
		return nil, nil, err
	}
	sb, sender, err := newSender(cfg.ServiceBus, cfg.Topic)
	if err != nil {
		return nil, nil, err
	}
	closeAll := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = sender.Close(ctx)
		_ = sb.Close(ctx)
	}
	srv, err := assemble(store, sender, cfg, tel, log)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return srv, closeAll, nil
}

func assemble(store *cosmosstore.Store, sender eventbus.Sender, cfg config.Config, tel *telemetry, log zerolog.Logger) (*handlers.Server, error) {
	rates, err := tax.Load()
	if err != nil {
		return nil, err
	}
	gateway, err := payment.NewSimulated(store.Ledger())
	if err != nil {
		return nil, err
	}
	pub, err := eventbus.New(sender)
	if err != nil {
		return nil, err
	}
	prices := pricedCatalog{Cache: catalog.NewCache(store.Products, cfg.CatalogCache, nil), store: store}
	return handlers.New(handlers.Deps{Orders: store, Placements: store, History: store, Catalog: prices, Tax: rates, Gateway: gateway,
		Stock: store.Inventory(), Publisher: pub, DeadLetters: store, Idempotency: store, Log: log, StageConcurrency: cfg.StageConcurrency, StageYieldCheckouts: cfg.StageYieldCheckouts,
		Tracing: tel.tracing, Metrics: tel.metrics})
}

// pricedCatalog prices checkouts from the cache and lists the catalog, with
// its live stock, from the store.
type pricedCatalog struct {
	*catalog.Cache
	store *cosmosstore.Store
}

func (c pricedCatalog) Catalog(ctx context.Context) ([]catalog.Listing, error) {
	return c.store.Catalog(ctx)
}

// serve runs the HTTP server until ctx ends, then drains it.
func serve(ctx context.Context, addr string, h http.Handler, log zerolog.Logger) error {
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info().Str("addr", addr).Msg("handler listening")
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", addr, err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}
