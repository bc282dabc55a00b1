package otlp

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// TestReceiverTakesTheSDKsExportAndAnswersByOrder exports a small trace with
// the real OTLP/HTTP exporter and reads it back by order id.
func TestReceiverTakesTheSDKsExportAndAnswersByOrder(t *testing.T) {
	r, err := Start("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(r.Endpoint()+"/v1/traces"))
	require.NoError(t, err)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	tr := tp.Tracer("test")
	root, checkout := tr.Start(ctx, "Checkout")
	checkout.SetAttributes(attribute.String("order.id", "ord_1"))
	_, tax := tr.Start(root, "ApplyTax")
	tax.SetAttributes(attribute.String("order.id", "ord_1"), attribute.Float64("cosmos.request_charge", 17.65))
	tax.End()
	checkout.End()
	_, other := tr.Start(ctx, "Checkout")
	other.SetAttributes(attribute.String("order.id", "ord_2"))
	other.End()
	require.NoError(t, tp.Shutdown(ctx))

	spans, err := Fetch(ctx, r.Endpoint(), "ord_1")
	require.NoError(t, err)
	require.Len(t, spans, 2, "the other order's trace is not included")
	assert.Equal(t, spans[0].SpanID, spans[1].ParentID)
	_, err = Fetch(ctx, r.Endpoint(), "ord_none")
	assert.ErrorIs(t, err, ErrNoTrace)

	var out bytes.Buffer
	Timeline(&out, spans)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 3)
	assert.Regexp(t, `ms  Checkout$`, lines[1])
	assert.Regexp(t, `ms    ApplyTax  \[cosmos.request_charge=17.65\]$`, lines[2], "a child is indented under its parent")
}

func TestTimelineOrdersChildrenByStart(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	spans := []Span{
		{SpanID: "b", ParentID: "a", Name: "second", Start: t0.Add(2 * time.Millisecond), End: t0.Add(3 * time.Millisecond)},
		{SpanID: "a", Name: "root", Start: t0, End: t0.Add(5 * time.Millisecond)},
		{SpanID: "c", ParentID: "a", Name: "first", Start: t0.Add(time.Millisecond), End: t0.Add(2 * time.Millisecond), Status: "error"},
	}
	var out bytes.Buffer
	Timeline(&out, spans)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 4)
	assert.Regexp(t, `^ +0\.0ms +5\.0ms  root$`, lines[1])
	assert.Regexp(t, `^ +1\.0ms +1\.0ms    first  \[ERROR\]$`, lines[2])
	assert.Regexp(t, `^ +2\.0ms +1\.0ms    second$`, lines[3])
}
