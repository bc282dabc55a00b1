package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/devstack"
	"github.com/ordersflow/orderpipeline/emulators/otlp"
)

// stageNames are the spans of one order, in the order they happen.
var stageNames = []string{"Checkout", "ApplyTax", "ProcessPayment", "FulfilOrder"}

// TestOneOrderIsOneTrace follows an order across the change feed: the host
// passes no trace context to a trigger, so the trace travels in the event
// documents. Checkout, the three stages and the publish spans share one
// trace id, every stage's parent is the span that wrote its event, and a
// forced redelivery lands in the same trace under the same parent.
func TestOneOrderIsOneTrace(t *testing.T) {
	rcv, err := otlp.Start("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = rcv.Close() })
	data := t.TempDir()
	st := startStack(t, devstack.Options{DataDir: data, OTLPEndpoint: rcv.Endpoint()})
	c := newClient(st.URL())

	const incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	id := placeTraced(t, c, incoming)
	c.waitTerminal(t, id, 30*time.Second)
	var named map[string][]otlp.Span
	awaitTrace(t, rcv, id, func(spans []otlp.Span) bool {
		named = byName(inTrace(spans, traceID))
		for _, n := range stageNames {
			if len(named[n]) == 0 {
				return false
			}
		}
		return len(published(named)) == len(stageNames)
	})
	assert.Equal(t, "00f067aa0ba902b7", named["Checkout"][0].ParentID, "Checkout continues the caller's span")
	for i := 1; i < len(stageNames); i++ {
		assert.Equal(t, named[stageNames[i-1]][0].SpanID, named[stageNames[i]][0].ParentID,
			"%s is the child of %s, which wrote its event", stageNames[i], stageNames[i-1])
	}
	writers := map[string]bool{}
	for _, n := range stageNames {
		writers[named[n][0].SpanID] = true
	}
	assert.Equal(t, writers, published(named), "each event is published in a span under (or linked to) the span that wrote it")
	for _, s := range inTrace(rcv.Spans(), traceID) {
		if s.Attributes["order.id"] != nil {
			assert.Equal(t, id, s.Attributes["order.id"], "%s belongs to this order", s.Name)
		}
	}
	assert.True(t, hasChild(rcv.Spans(), named["ApplyTax"][0].SpanID), "the Cosmos DB SDK's spans are children of the stage's")
	assert.Positive(t, named["ApplyTax"][0].Attributes["cosmos.request_charge"], "the stage span carries its request charge")

	// Redeliver every OrderPlaced to ApplyTax: it does nothing, in a span of
	// the same trace under the same parent.
	require.NoError(t, st.Close())
	deleteLeases(t, filepath.Join(data, "cosmos"), "tax-")
	st = startStack(t, devstack.Options{DataDir: data, OTLPEndpoint: rcv.Endpoint()})
	var again []otlp.Span
	awaitTrace(t, rcv, id, func(spans []otlp.Span) bool {
		again = byName(inTrace(spans, traceID))["ApplyTax"]
		return len(again) == 2
	})
	assert.Equal(t, again[0].ParentID, again[1].ParentID)
	assert.Equal(t, again[0].TraceID, again[1].TraceID)

	// Without a caller's traceparent, Checkout starts the order's trace.
	fresh := placeTraced(t, newClient(st.URL()), "")
	var root map[string][]otlp.Span
	awaitTrace(t, rcv, fresh, func(spans []otlp.Span) bool {
		root = byName(spans)
		return len(root["Checkout"]) > 0 && len(root["ApplyTax"]) > 0
	})
	assert.Empty(t, root["Checkout"][0].ParentID, "Checkout is the root")
	assert.NotEqual(t, named["Checkout"][0].TraceID, root["Checkout"][0].TraceID, "each order its own trace")
	assert.Equal(t, root["Checkout"][0].SpanID, root["ApplyTax"][0].ParentID)
}

func placeTraced(t *testing.T, c *client, traceparent string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.base+"/api/orders", bytes.NewReader(checkoutBody("tok_visa", "MUG-CLASSIC", 1)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if traceparent != "" {
		req.Header.Set("traceparent", traceparent)
	}
	resp, err := c.http.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	var o orderBody
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&o))
	return o.ID
}

// awaitTrace polls the receiver until done accepts the order's spans.
func awaitTrace(t *testing.T, rcv *otlp.Receiver, orderID string, done func([]otlp.Span) bool) {
	t.Helper()
	require.Eventually(t, func() bool { return done(rcv.OrderTrace(orderID)) }, 30*time.Second, 50*time.Millisecond,
		"the spans of order %s never arrived", orderID)
}

// inTrace keeps the spans of one trace (an order's GetOrder polls are
// traces of their own).
func inTrace(spans []otlp.Span, traceID string) []otlp.Span {
	var out []otlp.Span
	for _, s := range spans {
		if s.TraceID == traceID {
			out = append(out, s)
		}
	}
	return out
}

// published are the spans whose events the PublishEvents spans sent: each
// publish span's parent and the spans it links to.
func published(named map[string][]otlp.Span) map[string]bool {
	out := map[string]bool{}
	for _, p := range named["PublishEvents"] {
		out[p.ParentID] = true
		for _, l := range p.Links {
			out[l] = true
		}
	}
	return out
}

func byName(spans []otlp.Span) map[string][]otlp.Span {
	m := map[string][]otlp.Span{}
	for _, s := range spans {
		m[s.Name] = append(m[s.Name], s)
	}
	return m
}

func hasChild(spans []otlp.Span, parent string) bool {
	for _, s := range spans {
		if s.ParentID == parent {
			return true
		}
	}
	return false
}
