package otlp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Fetch asks a running receiver (its Endpoint) for an order's spans.
func Fetch(ctx context.Context, endpoint, orderID string) ([]Span, error) {
	u := strings.TrimRight(endpoint, "/") + "/api/traces?orderId=" + url.QueryEscape(orderID)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("ask the trace receiver at %s (is make run going with TRACE=1?): %w", endpoint, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("trace receiver: %s: %s", resp.Status, b)
	}
	var body struct {
		Spans []Span `json:"spans"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("trace receiver: %w", err)
	}
	if len(body.Spans) == 0 {
		return nil, ErrNoTrace
	}
	return body.Spans, nil
}

// Timeline writes spans as an indented tree, children under their parent,
// each line its offset from the first span's start, its duration and what
// it was about.
func Timeline(w io.Writer, spans []Span) {
	if len(spans) == 0 {
		return
	}
	byID := map[string]bool{}
	children := map[string][]Span{}
	for _, s := range spans {
		byID[s.SpanID] = true
	}
	var roots []Span
	for _, s := range spans {
		if s.ParentID == "" || !byID[s.ParentID] {
			roots = append(roots, s)
			continue
		}
		children[s.ParentID] = append(children[s.ParentID], s)
	}
	byStart(roots)
	t0 := roots[0].Start
	for _, s := range spans {
		if s.Start.Before(t0) {
			t0 = s.Start
		}
	}
	fmt.Fprintf(w, "%10s %10s  %s\n", "at", "took", "span")
	var walk func(s Span, depth int)
	walk = func(s Span, depth int) {
		fmt.Fprintf(w, "%10s %10s  %s%s%s\n", ms(s.Start.Sub(t0)), ms(s.Duration()),
			strings.Repeat("  ", depth), s.Name, details(s))
		kids := children[s.SpanID]
		byStart(kids)
		for _, k := range kids {
			walk(k, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, 0)
	}
}

func byStart(s []Span) {
	sort.SliceStable(s, func(i, j int) bool { return s[i].Start.Before(s[j].Start) })
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

// details are the attributes a person reads first.
func details(s Span) string {
	var parts []string
	for _, k := range []string{"event.type", "outcome", "retry.count", "cosmos.request_charge", "http.response.status_code"} {
		v, ok := s.Attributes[k]
		switch x := v.(type) {
		case nil:
		case float64:
			if x != 0 {
				parts = append(parts, fmt.Sprintf("%s=%.2f", k, x))
			}
		default:
			if ok && fmt.Sprint(v) != "0" {
				parts = append(parts, fmt.Sprintf("%s=%v", k, v))
			}
		}
	}
	if s.Status == "error" {
		parts = append(parts, "ERROR")
	}
	if len(parts) == 0 {
		return ""
	}
	return "  [" + strings.Join(parts, " ") + "]"
}
