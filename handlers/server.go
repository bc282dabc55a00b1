// Package handlers is the custom handler that the Azure Functions host
// calls: one HTTP server, one file per function. HTTP functions receive the
// shopper's request as forwarded by the host; trigger functions receive the
// host's invocation envelope on POST /<FunctionName>.
package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/ordersflow/orderpipeline/shared/catalog"
	"github.com/ordersflow/orderpipeline/shared/deadletter"
	"github.com/ordersflow/orderpipeline/shared/order"
	"github.com/ordersflow/orderpipeline/shared/payment"
)

// Each function declares the part of the store it uses; main passes the
// one store to each.

// Orders is what the saga's stages need: an order and a guarded append.
type Orders interface {
	Order(ctx context.Context, id string) (order.Order, error)
	Append(ctx context.Context, o order.Order, events ...order.Event) error
}

// Placements is what Checkout needs: it creates an order with its
// OrderPlaced event, and checks the event is there to replay an
// Idempotency-Key.
type Placements interface {
	Event(ctx context.Context, orderID string, t order.EventType) (order.Event, error)
	CreateOrder(ctx context.Context, o order.Order, placed order.Event) error
}

// History is what GetOrder needs: an order and its events.
type History interface {
	Order(ctx context.Context, id string) (order.Order, error)
	Events(ctx context.Context, orderID string) ([]order.Event, error)
}

// Gateway charges and refunds an order, idempotently per request Key.
type Gateway interface {
	Charge(ctx context.Context, r payment.Request) (payment.Receipt, error)
	Refund(ctx context.Context, r payment.Request) (payment.Receipt, error)
}

// Stock reserves and releases stock for one order line, idempotently per
// (order, SKU): reserving twice holds the stock once, releasing what isn't
// held does nothing. Reserve fails with order.ErrInsufficientStock.
type Stock interface {
	Reserve(ctx context.Context, orderID, sku string, quantity int) error
	Release(ctx context.Context, orderID, sku string, quantity int) error
}

// Catalog prices products and lists them with their stock.
type Catalog interface {
	Products(ctx context.Context, skus []string) (map[string]catalog.Product, error)
	Catalog(ctx context.Context) ([]catalog.Listing, error)
}

// TaxTable computes tax and tells where the shop ships.
type TaxTable interface {
	Jurisdiction(a order.Address) (string, error)
	Compute(o order.Order) (order.TaxData, error)
}

// Publisher sends events to downstream systems: the events of several
// orders at once, each order's in order, saying for each order what became
// of its events (the result for orders[i] is the i-th).
type Publisher interface {
	Publish(ctx context.Context, orders [][]order.Event) []order.Published
}

// DeadLetters keeps documents that a function could not process.
type DeadLetters interface {
	PutDeadLetter(ctx context.Context, d deadletter.DeadLetter) error
	DeadLetter(ctx context.Context, id string) (deadletter.DeadLetter, error)
	DeadLetters(ctx context.Context) ([]deadletter.DeadLetter, error)
	DeleteDeadLetter(ctx context.Context, id string) error
}

// Deps are everything the handler talks to.
type Deps struct {
	Orders      Orders
	Placements  Placements
	History     History
	Catalog     Catalog
	Tax         TaxTable
	Gateway     Gateway
	Stock       Stock
	Publisher   Publisher
	DeadLetters DeadLetters
	Idempotency IdempotencyRecords
	Log         zerolog.Logger
	Now         func() time.Time // default time.Now
	// Tracing and Metrics receive the handler's spans and metrics; nil
	// means none are recorded.
	Tracing trace.TracerProvider
	Metrics metric.MeterProvider
	// StageConcurrency bounds how many orders of one change feed batch a
	// stage works on at once; default DefaultStageConcurrency.
	StageConcurrency int
	// StageYieldCheckouts is how many checkouts in flight make the stages
	// give way to checkout (yield.go); 0 never.
	StageYieldCheckouts int
}

// Server serves every function of the app.
type Server struct {
	Deps
	tel    *telemetry
	yield  *yielder
	stages map[string]stage
	mux    *http.ServeMux
}

// New checks that every dependency is present and builds the routes.
func New(d Deps) (*Server, error) {
	if d.Orders == nil || d.Placements == nil || d.History == nil || d.Catalog == nil || d.Tax == nil ||
		d.Gateway == nil || d.Stock == nil || d.Publisher == nil || d.DeadLetters == nil || d.Idempotency == nil {
		return nil, errors.New("handlers: every dependency is required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	tel, err := newTelemetry(d.Tracing, d.Metrics)
	if err != nil {
		return nil, fmt.Errorf("handlers: telemetry: %w", err)
	}
	s := &Server{Deps: d, tel: tel, yield: newYielder(d.StageYieldCheckouts), mux: http.NewServeMux()}
	s.stages = map[string]stage{
		"ApplyTax":       {on: []order.EventType{order.OrderPlaced}, run: s.applyTax},
		"ProcessPayment": {on: []order.EventType{order.TaxApplied, order.FulfilmentFailed}, run: s.processPayment},
		"FulfilOrder":    {on: []order.EventType{order.PaymentCaptured}, run: s.fulfilOrder},
		"PublishEvents":  {on: allEvents, run: s.publishOne},
	}
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	s.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	s.http("Checkout", "POST /api/orders", func(w http.ResponseWriter, r *http.Request) error {
		defer s.yield.checkout()()
		return s.checkout(w, r)
	})
	s.http("GetOrder", "GET /api/orders/{id}", s.getOrder)
	s.http("ListProducts", "GET /api/products", s.listProducts)
	s.http("ListDeadLetters", "GET /api/ops/dead-letters", s.listDeadLetters)
	s.http("ReplayDeadLetter", "POST /api/ops/dead-letters/{id}/replay", s.replayDeadLetter)
	for _, fn := range []string{"ApplyTax", "ProcessPayment", "FulfilOrder"} {
		s.mux.Handle("POST /"+fn, s.invocation(fn, s.trigger(fn, s.stages[fn])))
	}
	s.mux.Handle("POST /PublishEvents", s.invocation("PublishEvents", http.HandlerFunc(s.publishEvents)))
}

// http registers a forwarded HTTP function whose handler returns an error
// to be answered as problem+json.
func (s *Server) http(fn, pattern string, h func(http.ResponseWriter, *http.Request) error) {
	s.mux.Handle(pattern, s.serverSpan(fn, s.invocation(fn, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.problem(w, r, err)
		}
	}))))
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }
