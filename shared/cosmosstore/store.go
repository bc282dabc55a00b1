// Package cosmosstore keeps the app's state in Cosmos DB through azcosmos:
// orders and their events, the catalog, inventory, the payment ledger and
// dead letters, and the idempotency records of checkout. It translates SDK status codes into the order domain's
// errors at this boundary, puts a deadline on every call and reports the
// request charge of every call to an observer; it never logs.
package cosmosstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
)

// Containers names the containers the store uses; config reads them from
// the app settings.
type Containers struct {
	Orders, Catalog, Inventory, Payments, DeadLetters, Idempotency string
}

// ChargeObserver is told the request charge (RU) of every call.
type ChargeObserver func(ctx context.Context, op string, ru float32)

// Store is the Cosmos DB adapter of the app.
type Store struct {
	orders, catalog, inventory, payments, deadLetters, idempotency *azcosmos.ContainerClient

	timeout time.Duration
	observe ChargeObserver

	reservations reserveQueue
}

// Options tune a Store. Zero values pick the defaults.
type Options struct {
	Timeout time.Duration  // per call; default 10 s
	Observe ChargeObserver // default: discard
}

// New returns a store on database db of client.
func New(client *azcosmos.Client, db string, c Containers, o Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("cosmosstore: nil client")
	}
	s := &Store{timeout: o.Timeout, observe: o.Observe}
	if s.timeout == 0 {
		s.timeout = 10 * time.Second
	}
	if s.observe == nil {
		s.observe = func(context.Context, string, float32) {}
	}
	for _, bind := range []struct {
		dst  **azcosmos.ContainerClient
		name string
	}{{&s.orders, c.Orders}, {&s.catalog, c.Catalog}, {&s.inventory, c.Inventory}, {&s.payments, c.Payments}, {&s.deadLetters, c.DeadLetters}, {&s.idempotency, c.Idempotency}} {
		cc, err := client.NewContainer(db, bind.name)
		if err != nil {
			return nil, fmt.Errorf("cosmosstore: container %q: %w", bind.name, err)
		}
		*bind.dst = cc
	}
	return s, nil
}

// withDeadline bounds one Cosmos call.
func (s *Store) withDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

func pk(v string) azcosmos.PartitionKey { return azcosmos.NewPartitionKeyString(v) }

// charged reports what one call cost to the observer: the request charge
// of its response or, for a call the service refused (404, 409, 412, 429,
// which Cosmos DB charges too), the charge on the error's response, which
// azcosmos does not copy into the response it returns with the error.
func (s *Store) charged(ctx context.Context, op string, ru float32, err error) {
	var re *azcore.ResponseError
	if ru == 0 && errors.As(err, &re) && re.RawResponse != nil {
		if v, perr := strconv.ParseFloat(re.RawResponse.Header.Get("x-ms-request-charge"), 32); perr == nil {
			ru = float32(v)
		}
	}
	s.observe(ctx, op, ru)
}
