package cosmos

import (
	"context"
	"net/http"
	"time"
)

// FaultClient drives the faults and budgets of a running emulator's
// control endpoint (what `cosmos-emulator faults` uses).
type FaultClient struct {
	ctl ControlClient
}

// NewFaultClient talks to the emulator at endpoint (its account
// endpoint), signing with its account key ("" = DefaultKey); hc nil uses a
// client with a timeout.
func NewFaultClient(endpoint, key string, hc *http.Client) *FaultClient {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return &FaultClient{ctl: ControlClient{Endpoint: endpoint, Key: key, HTTP: hc}}
}

// Inject starts a fault.
func (c *FaultClient) Inject(ctx context.Context, f Fault) (FaultState, error) {
	var st FaultState
	return st, c.ctl.call(ctx, http.MethodPost, "faults", f, http.StatusCreated, &st)
}

// List returns the active faults.
func (c *FaultClient) List(ctx context.Context) ([]FaultState, error) {
	var out []FaultState
	return out, c.ctl.call(ctx, http.MethodGet, "faults", nil, http.StatusOK, &out)
}

// Clear ends every fault.
func (c *FaultClient) Clear(ctx context.Context) error {
	return c.ctl.call(ctx, http.MethodDelete, "faults", nil, http.StatusNoContent, nil)
}

// Charges returns the request units charged so far by container and operation.
func (c *FaultClient) Charges(ctx context.Context) ([]ChargeTotal, error) {
	var out []ChargeTotal
	return out, c.ctl.call(ctx, http.MethodGet, "charges", nil, http.StatusOK, &out)
}

// Budgets returns the throughput budgets and what they throttled.
func (c *FaultClient) Budgets(ctx context.Context) ([]BudgetStats, error) {
	var out []BudgetStats
	return out, c.ctl.call(ctx, http.MethodGet, "budgets", nil, http.StatusOK, &out)
}
