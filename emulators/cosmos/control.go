package cosmos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The control plane is the emulator's own operator API, under
// /_emulator/, signed with the account key like any Cosmos DB request
// (resource type "_emulator", resource link the path after the prefix):
//
//	POST /_emulator/split  {"database":"db","container":"c","range":"0"}
//	  → 200 {"parent":"0","children":[{"id":"1",...},{"id":"2",...}]}
//
// Errors are RFC 9457 problem+json.
const controlPrefix = "/_emulator/"

// RangeInfo describes one partition key range.
type RangeInfo struct {
	ID           string   `json:"id"`
	MinInclusive string   `json:"minInclusive"`
	MaxExclusive string   `json:"maxExclusive"`
	Parents      []string `json:"parents"`
}

// SplitResult is the outcome of a split: the retired range and the two
// ranges that replace it.
type SplitResult struct {
	Parent   string       `json:"parent"`
	Children [2]RangeInfo `json:"children"`
}

// SplitRequest names the range to split.
type SplitRequest struct {
	Database  string `json:"database"`
	Container string `json:"container"`
	Range     string `json:"range"`
}

// Split splits a partition key range of a container in two, as Cosmos DB
// does when a partition outgrows its storage or throughput. From then on
// the old range id answers 410 with substatus 1002, pkranges lists the
// children with the old id in their parents, and a change feed
// continuation of the old range is valid on each child.
func (s *Server) Split(database, container, rangeID string) (SplitResult, error) {
	kids, err := s.store.splitRange(database, container, rangeID)
	if err != nil {
		return SplitResult{}, err
	}
	return SplitResult{Parent: rangeID, Children: [2]RangeInfo{rangeInfo(kids[0]), rangeInfo(kids[1])}}, nil
}

// Ranges lists the live partition key ranges of a container.
func (s *Server) Ranges(database, container string) ([]RangeInfo, error) {
	c, err := s.store.container(database, container)
	if err != nil {
		return nil, err
	}
	live := c.routing().Live
	out := make([]RangeInfo, len(live))
	for i, p := range live {
		out[i] = rangeInfo(p)
	}
	return out, nil
}

func rangeInfo(p *pkRange) RangeInfo {
	return RangeInfo{ID: p.ID, MinInclusive: p.Min, MaxExclusive: p.Max, Parents: p.Parents}
}

// controlHandlers maps "METHOD path-after-prefix" to its handler.
var controlHandlers = map[string]func(*Server, http.ResponseWriter, *http.Request) error{
	"POST split": (*Server).controlSplit,
}

func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, controlPrefix)
	if err := s.auth.verify(r, route{resourceType: "_emulator", resourceLink: name}); err != nil {
		writeProblem(w, err)
		return
	}
	h, ok := controlHandlers[r.Method+" "+name]
	if !ok {
		writeProblem(w, newError(http.StatusNotFound, "No control operation %s %s.", r.Method, r.URL.Path))
		return
	}
	if err := h(s, w, r); err != nil {
		writeProblem(w, err)
	}
}

func (s *Server) controlSplit(w http.ResponseWriter, r *http.Request) error {
	var req SplitRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Database == "" || req.Container == "" || req.Range == "" {
		return errBadRequest("A split names a database, a container and a range.")
	}
	res, err := s.Split(req.Database, req.Container, req.Range)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(res)
	writeJSON(w, http.StatusOK, "0", body)
	return nil
}

// writeProblem answers an error as RFC 9457 problem+json.
func writeProblem(w http.ResponseWriter, err error) {
	e, ok := err.(*apiError)
	if !ok {
		e = newError(http.StatusInternalServerError, "%v", err)
	}
	body, _ := json.Marshal(map[string]any{
		"type": "about:blank", "title": http.StatusText(e.status), "status": e.status, "detail": e.message,
	})
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(e.status)
	_, _ = w.Write(body)
}

// ControlClient drives a running emulator's control plane over HTTP (what
// `cosmos-emulator split` uses).
type ControlClient struct {
	Endpoint string       // the emulator's endpoint, e.g. "http://127.0.0.1:8081/"
	Key      string       // its account key; "" = DefaultKey
	HTTP     *http.Client // nil = a client with a 30 s timeout
}

// Split splits a range of a container on the emulator.
func (c ControlClient) Split(ctx context.Context, req SplitRequest) (SplitResult, error) {
	var res SplitResult
	return res, c.call(ctx, "split", req, &res)
}

func (c ControlClient) call(ctx context.Context, name string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.Endpoint, "/")+controlPrefix+name, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if err := c.sign(req, name); err != nil {
		return err
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s: read answer: %w", name, err)
	}
	if resp.StatusCode != http.StatusOK {
		return controlError(name, resp.StatusCode, raw)
	}
	return json.Unmarshal(raw, out)
}

func (c ControlClient) sign(req *http.Request, name string) error {
	key := c.Key
	if key == "" {
		key = DefaultKey
	}
	a, err := newAuthenticator(key)
	if err != nil {
		return fmt.Errorf("decode key: %w", err)
	}
	date := time.Now().UTC().Format(http.TimeFormat)
	sig := a.sign("post\n_emulator\n" + name + "\n" + strings.ToLower(date) + "\n\n")
	req.Header.Set(hdrDate, date)
	req.Header.Set("Authorization", url.QueryEscape("type=master&ver=1.0&sig="+sig))
	req.Header.Set("Content-Type", contentTypeJSON)
	return nil
}

// ControlError is a refusal from the control plane.
type ControlError struct {
	Operation string
	Status    int
	Detail    string
}

func (e *ControlError) Error() string {
	return fmt.Sprintf("%s: %d %s: %s", e.Operation, e.Status, http.StatusText(e.Status), e.Detail)
}

func controlError(name string, status int, raw []byte) error {
	var p struct {
		Detail string `json:"detail"`
	}
	if json.Unmarshal(raw, &p) != nil || p.Detail == "" {
		p.Detail = strings.TrimSpace(string(raw))
	}
	return &ControlError{Operation: name, Status: status, Detail: p.Detail}
}
