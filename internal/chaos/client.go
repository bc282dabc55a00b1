package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// shop is a checkout client that retries like a careful shopper's app: the
// same request with the same Idempotency-Key until it gets an answer.
type shop struct {
	base   string
	master string
	http   *http.Client
}

func newShop(base, master string) *shop {
	return &shop{base: base, master: master, http: &http.Client{Timeout: 20 * time.Second}}
}

type line struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// checkout is order i of the run: mostly approved, one in ten declined,
// one in ten for a scarce SKU (KEYBOARD-65, 40 in stock), which is
// charged and then refunded when the stock has run out.
func checkout(i int) (token string, lines []line) {
	switch i % 10 {
	case 0:
		return "tok_declined", []line{{"GIFT-25", 1}}
	case 5:
		return "tok_visa", []line{{"KEYBOARD-65", 1}}
	case 3:
		return "tok_mastercard", []line{{"GIFT-25", 1}, {"STICKER-PK", 2}}
	}
	return "tok_visa", []line{{"GIFT-25", 1}}
}

func checkoutBody(i int) []byte {
	token, lines := checkout(i)
	b, _ := json.Marshal(map[string]any{"customerId": fmt.Sprintf("c-chaos-%d", i%97), "currency": "USD", "lines": lines,
		"shipTo":  map[string]string{"country": "US", "region": "WA", "postalCode": "98101"},
		"payment": map[string]string{"token": token}})
	return b
}

// place sends order i until it is accepted (202) or ctx ends. It returns
// the order id and how many attempts it took.
func (s *shop) place(ctx context.Context, key string, body []byte) (string, int, error) {
	for attempt := 1; ; attempt++ {
		id, status, err := s.try(ctx, key, body)
		if status == http.StatusAccepted {
			return id, attempt, nil
		}
		if status >= 400 && status < 500 && status != http.StatusTooManyRequests && status != http.StatusRequestTimeout &&
			status != http.StatusConflict {
			return "", attempt, fmt.Errorf("checkout %s refused: %d", key, status)
		}
		select {
		case <-ctx.Done():
			return "", attempt, fmt.Errorf("checkout %s: %w (last: %d %v)", key, ctx.Err(), status, err)
		case <-time.After(backoff(attempt)):
		}
	}
}

// backoff grows from 50ms to 2s.
func backoff(attempt int) time.Duration {
	d := 50 * time.Millisecond << min(attempt, 6)
	return min(d, 2*time.Second)
}

func (s *shop) try(ctx context.Context, key string, body []byte) (string, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/api/orders", bytes.NewReader(body))
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := s.http.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusAccepted {
		return "", resp.StatusCode, err
	}
	var o struct {
		ID string `json:"id"`
	}
	return o.ID, resp.StatusCode, json.Unmarshal(b, &o)
}

type deadLetter struct {
	ID string `json:"id"`
}

// deadLetters lists the ops API's dead letters (with the master key).
func (s *shop) deadLetters(ctx context.Context) ([]deadLetter, error) {
	resp, err := s.ops(ctx, http.MethodGet, "/api/ops/dead-letters")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("list dead letters: %s", resp.Status)
	}
	var body struct {
		DeadLetters []deadLetter `json:"deadLetters"`
	}
	return body.DeadLetters, json.NewDecoder(resp.Body).Decode(&body)
}

// replay replays every dead letter listed and returns how many it replayed.
func (s *shop) replay(ctx context.Context) int {
	dls, err := s.deadLetters(ctx)
	if err != nil {
		return 0
	}
	n := 0
	for _, d := range dls {
		resp, err := s.ops(ctx, http.MethodPost, "/api/ops/dead-letters/"+d.ID+"/replay")
		if err != nil {
			continue
		}
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			n++
		}
	}
	return n
}

func (s *shop) ops(ctx context.Context, method, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("x-functions-key", s.master)
	return s.http.Do(req)
}
