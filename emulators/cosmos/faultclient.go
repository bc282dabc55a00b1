package cosmos

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
// endpoint), signing with its account key ("" = DefaultKey); hc nil uses a
// client with a timeout.
func NewFaultClient(endpoint, key string, hc *http.Client) *FaultClient {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return &FaultClient{endpoint: strings.TrimSuffix(endpoint, "/"), key: cmp.Or(key, DefaultKey), http: hc}
}

// sign authorizes a control request as the emulator checks it: a master
// key signature over resource type "_emulator" and the operation's name.
func (c *FaultClient) sign(req *http.Request, name string) error {
	a, err := newAuthenticator(c.key)
	if err != nil {
		return fmt.Errorf("decode key: %w", err)
	}
	date := time.Now().UTC().Format(http.TimeFormat)
	sig := a.sign(strings.ToLower(req.Method) + "\n_emulator\n" + name + "\n" + strings.ToLower(date) + "\n\n")
	req.Header.Set(hdrDate, date)
	req.Header.Set("Authorization", url.QueryEscape("type=master&ver=1.0&sig="+sig))
	req.Header.Set("Content-Type", contentTypeJSON)
	return nil
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
	if err := c.sign(req, path); err != nil {
		return err
	}
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
