// Package otlp is a small OpenTelemetry (OTLP/HTTP) receiver for the local
// stack: it accepts the handler's traces and metrics, keeps the spans in
// memory, and answers which spans belong to an order's trace, so a person
// debugging locally (cmd/trace, `make trace`) or a test can see where an
// order's time went without installing a collector. It is never imported by
// product code.
package otlp

import (
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Limits of what the receiver keeps and reads.
const (
	maxBody  = 16 << 20
	maxSpans = 200_000
)

// Span is one received span, in the receiver's JSON form.
type Span struct {
	TraceID    string         `json:"traceId"`
	SpanID     string         `json:"spanId"`
	ParentID   string         `json:"parentSpanId,omitempty"`
	Name       string         `json:"name"`
	Kind       string         `json:"kind"`
	Service    string         `json:"service"`
	Start      time.Time      `json:"start"`
	End        time.Time      `json:"end"`
	Status     string         `json:"status,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty"`
	Links      []string       `json:"links,omitempty"` // span ids
}

// Duration is how long the span took.
func (s Span) Duration() time.Duration { return s.End.Sub(s.Start) }

// Receiver is a running OTLP/HTTP receiver.
type Receiver struct {
	ln      net.Listener
	srv     *http.Server
	mu      sync.Mutex
	spans   []Span
	metrics int // metric export requests received
}

// Start listens on addr (127.0.0.1:0 picks a port).
func Start(addr string) (*Receiver, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("otlp receiver: %w", err)
	}
	r := &Receiver{ln: ln}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", r.traces)
	mux.HandleFunc("POST /v1/metrics", r.metricsExport)
	mux.HandleFunc("GET /api/traces", r.query)
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// Endpoint is the base URL to give OTEL_EXPORTER_OTLP_ENDPOINT.
func (r *Receiver) Endpoint() string { return "http://" + r.ln.Addr().String() }

// Close stops the receiver.
func (r *Receiver) Close() error { return r.srv.Close() }

// Spans returns every span received so far.
func (r *Receiver) Spans() []Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Span(nil), r.spans...)
}

// MetricExports counts the metric export requests received.
func (r *Receiver) MetricExports() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.metrics
}

// OrderTrace returns the spans of every trace that has a span with the
// attribute order.id = orderID, oldest first.
func (r *Receiver) OrderTrace(orderID string) []Span { return OrderTrace(r.Spans(), orderID) }

// OrderTrace picks from spans those of the traces that touch orderID.
func OrderTrace(spans []Span, orderID string) []Span {
	traces := map[string]bool{}
	for _, s := range spans {
		if s.Attributes["order.id"] == orderID {
			traces[s.TraceID] = true
		}
	}
	var out []Span
	for _, s := range spans {
		if traces[s.TraceID] {
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

func (r *Receiver) traces(w http.ResponseWriter, req *http.Request) {
	var msg coltrace.ExportTraceServiceRequest
	if err := decode(req, &msg); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	spans := convert(&msg)
	r.mu.Lock()
	if room := maxSpans - len(r.spans); room < len(spans) {
		r.spans = r.spans[min(len(r.spans), len(spans)-room):] // keep the newest
	}
	r.spans = append(r.spans, spans...)
	r.mu.Unlock()
	reply(w, req, &coltrace.ExportTraceServiceResponse{})
}

func (r *Receiver) metricsExport(w http.ResponseWriter, req *http.Request) {
	if _, err := body(req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.metrics++
	r.mu.Unlock()
	w.Header().Set("Content-Type", req.Header.Get("Content-Type"))
	w.WriteHeader(http.StatusOK)
}

// query answers GET /api/traces?orderId=ID with the order's spans as JSON.
func (r *Receiver) query(w http.ResponseWriter, req *http.Request) {
	id := req.URL.Query().Get("orderId")
	if id == "" {
		http.Error(w, "orderId is required", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"spans": r.OrderTrace(id)})
}

func body(req *http.Request) ([]byte, error) {
	rd := io.Reader(http.MaxBytesReader(nil, req.Body, maxBody))
	if req.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(rd)
		if err != nil {
			return nil, err
		}
		defer gz.Close()
		rd = io.LimitReader(gz, maxBody)
	}
	return io.ReadAll(rd)
}

func decode(req *http.Request, m proto.Message) error {
	b, err := body(req)
	if err != nil {
		return err
	}
	if req.Header.Get("Content-Type") == "application/json" {
		return protojson.Unmarshal(b, m)
	}
	return proto.Unmarshal(b, m)
}

func reply(w http.ResponseWriter, req *http.Request, m proto.Message) {
	var b []byte
	var err error
	ct := req.Header.Get("Content-Type")
	if ct == "application/json" {
		b, err = protojson.Marshal(m)
	} else {
		ct = "application/x-protobuf"
		b, err = proto.Marshal(m)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ct)
	_, _ = w.Write(b)
}

func convert(msg *coltrace.ExportTraceServiceRequest) []Span {
	var out []Span
	for _, rs := range msg.GetResourceSpans() {
		service, _ := value(lookup(rs.GetResource().GetAttributes(), "service.name")).(string)
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				out = append(out, span(s, service))
			}
		}
	}
	return out
}

func span(s *tracepb.Span, service string) Span {
	sp := Span{TraceID: hex.EncodeToString(s.GetTraceId()), SpanID: hex.EncodeToString(s.GetSpanId()),
		Name: s.GetName(), Kind: kindName(s.GetKind()), Service: service,
		Start: time.Unix(0, int64(s.GetStartTimeUnixNano())), End: time.Unix(0, int64(s.GetEndTimeUnixNano())),
		Attributes: map[string]any{}}
	if p := s.GetParentSpanId(); len(p) > 0 {
		sp.ParentID = hex.EncodeToString(p)
	}
	if s.GetStatus().GetCode() == tracepb.Status_STATUS_CODE_ERROR {
		sp.Status = "error"
	}
	for _, kv := range s.GetAttributes() {
		sp.Attributes[kv.GetKey()] = value(kv.GetValue())
	}
	for _, l := range s.GetLinks() {
		sp.Links = append(sp.Links, hex.EncodeToString(l.GetSpanId()))
	}
	return sp
}

func kindName(k tracepb.Span_SpanKind) string {
	switch k {
	case tracepb.Span_SPAN_KIND_SERVER:
		return "server"
	case tracepb.Span_SPAN_KIND_CLIENT:
		return "client"
	case tracepb.Span_SPAN_KIND_PRODUCER:
		return "producer"
	case tracepb.Span_SPAN_KIND_CONSUMER:
		return "consumer"
	}
	return "internal"
}

func lookup(kvs []*commonpb.KeyValue, key string) *commonpb.AnyValue {
	for _, kv := range kvs {
		if kv.GetKey() == key {
			return kv.GetValue()
		}
	}
	return nil
}

func value(v *commonpb.AnyValue) any {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_IntValue:
		return x.IntValue
	case *commonpb.AnyValue_DoubleValue:
		return x.DoubleValue
	case *commonpb.AnyValue_BoolValue:
		return x.BoolValue
	}
	return nil
}

// ErrNoTrace is returned by Fetch when the receiver has no span of the order.
var ErrNoTrace = errors.New("no spans for that order")
