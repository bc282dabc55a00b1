package main

import (
	"context"
	"strings"
	"sync"

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
)

// hostFunction names the host's own share in the request-unit rows.
const hostFunction = "host feed+lease"

// hostMeter measures the Functions host's own request units: the change
// feed reads of its triggers and its lease reads and writes, from the
// emulator's charge totals (GET /_emulator/charges) over the load, less
// bench-load's own change feed reads (its tracker is one more reader).
type hostMeter struct {
	fc     *cosmos.FaultClient
	leases string
	own    *ruCounter
	before float64
	ok     bool
}

// ruCounter sums the charges of bench-load's own requests.
type ruCounter struct {
	mu sync.Mutex
	v  float64
}

func (c *ruCounter) add(ru float32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.v += float64(ru)
}

func (c *ruCounter) value() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.v
}

// newHostMeter reads the emulator's totals now; ok is false when the
// stack's Cosmos DB is not our emulator (no charge totals).
func newHostMeter(ctx context.Context, conn, leases string, own *ruCounter) *hostMeter {
	endpoint, key := connParts(conn)
	m := &hostMeter{fc: cosmos.NewFaultClient(endpoint, key, nil), leases: leases, own: own}
	total, _, err := m.read(ctx)
	m.ok = err == nil && endpoint != ""
	m.before = total - own.value()
	return m
}

// read sums the host's share of the totals: the change feed anywhere and
// every request to the lease container.
func (m *hostMeter) read(ctx context.Context) (float64, int64, error) {
	totals, err := m.fc.Charges(ctx)
	if err != nil {
		return 0, 0, err
	}
	ru, n := 0.0, int64(0)
	for _, t := range totals {
		if t.Op == cosmos.OpChangeFeed || t.Container == m.leases {
			ru += t.RU
			n += t.Requests
		}
	}
	return ru, n, nil
}

// since is the host's RU since the meter was made; ok false if unknown.
func (m *hostMeter) since(ctx context.Context) (stageRU, bool) {
	if m == nil || !m.ok {
		return stageRU{}, false
	}
	total, n, err := m.read(ctx)
	if err != nil {
		return stageRU{}, false
	}
	return stageRU{Function: hostFunction, Invocations: int(n), RU: total - m.own.value() - m.before}, true
}

// connParts takes the endpoint and key out of a Cosmos DB connection string.
func connParts(conn string) (endpoint, key string) {
	for _, part := range strings.Split(conn, ";") {
		if v, ok := strings.CutPrefix(part, "AccountEndpoint="); ok {
			endpoint = v
		}
		if v, ok := strings.CutPrefix(part, "AccountKey="); ok {
			key = v
		}
	}
	return endpoint, key
}
