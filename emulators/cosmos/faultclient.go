package cosmos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// FaultClient drives a running emulator's control endpoint.
type FaultClient struct {
	endpoint string
	key      string
	http     *http.Client
}

// NewFaultClient talks to the emulator at endpoint (its account
// endpoint) with its account key; hc nil uses a client with a timeout.
func NewFaultClient(endpoint, key string, hc *http.Client) *FaultClient {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return &FaultClient{endpoint: strings.TrimSuffix(endpoint, "/"), key: key, http: hc}
}

// Inject starts a fault.
func (c *FaultClient) Inject(ctx context.Context, f Fault) (FaultState, error) {
	var st FaultState
	body, err := json.Marshal(f)
	if err != nil {
		return st, err
	}
	return st, c.do(ctx, http.MethodPost, "faults", body, http.StatusCreated, &st)
}

// List returns the active faults.
func (c *FaultClient) List(ctx context.Context) ([]FaultState, error) {
	var out []FaultState
	return out, c.do(ctx, http.MethodGet, "faults", nil, http.StatusOK, &out)
}

// Clear ends every fault.
func (c *FaultClient) Clear(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "faults", nil, http.StatusNoContent, nil)
}

// Budgets returns the throughput budgets and what they throttled.
func (c *FaultClient) Budgets(ctx context.Context) ([]BudgetStats, error) {
	var out []BudgetStats
	return out, c.do(ctx, http.MethodGet, "budgets", nil, http.StatusOK, &out)
}

func (c *FaultClient) do(ctx context.Context, method, path string, body []byte, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint+controlPrefix+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set(hdrEmulatorKey, c.key)
	req.Header.Set("Content-Type", contentTypeJSON)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode != want {
		var p struct {
			Detail string `json:"detail"`
		}
		_ = json.Unmarshal(b, &p)
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, p.Detail)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}
