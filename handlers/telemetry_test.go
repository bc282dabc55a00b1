package handlers

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// metricFixture is a server whose metrics a test can collect.
func metricFixture(t *testing.T) (*fixture, func() map[string]map[attribute.Distinct]metricdata.Aggregation) {
	reader := sdkmetric.NewManualReader()
	f := newFixture(t, func(d *Deps) { d.Metrics = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)) })
	return f, func() map[string]map[attribute.Distinct]metricdata.Aggregation {
		var rm metricdata.ResourceMetrics
		require.NoError(t, reader.Collect(context.Background(), &rm))
		out := map[string]map[attribute.Distinct]metricdata.Aggregation{}
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				out[m.Name] = byAttributes(m.Data)
			}
		}
		return out
	}
}

// byAttributes splits a metric's data points by their attribute sets.
func byAttributes(data metricdata.Aggregation) map[attribute.Distinct]metricdata.Aggregation {
	out := map[attribute.Distinct]metricdata.Aggregation{}
	switch d := data.(type) {
	case metricdata.Sum[float64]:
		for _, p := range d.DataPoints {
			out[p.Attributes.Equivalent()] = metricdata.Sum[float64]{DataPoints: []metricdata.DataPoint[float64]{p}}
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			out[p.Attributes.Equivalent()] = metricdata.Histogram[float64]{DataPoints: []metricdata.HistogramDataPoint[float64]{p}}
		}
	}
	return out
}

func set(kvs ...attribute.KeyValue) attribute.Distinct {
	s := attribute.NewSet(kvs...)
	return s.Equivalent()
}

func TestRequestUnitsAreCountedByFunctionAndOperation(t *testing.T) {
	f, collect := metricFixture(t)
	for _, c := range []struct {
		fn, op string
		ru     float32
	}{{"ApplyTax", "append_events", 2}, {"ApplyTax", "append_events", 3}, {"ApplyTax", "read_order", 1}, {"FulfilOrder", "append_events", 7}} {
		ObserveCharge(withStats(context.Background(), &stats{fn: c.fn, tel: f.srv.tel}), c.op, c.ru)
	}
	got := collect()["cosmos.request_units"]
	want := map[attribute.Distinct]float64{
		set(attrFunction.String("ApplyTax"), attrOperation.String("append_events")):    5,
		set(attrFunction.String("ApplyTax"), attrOperation.String("read_order")):       1,
		set(attrFunction.String("FulfilOrder"), attrOperation.String("append_events")): 7,
	}
	require.Len(t, got, len(want))
	for attrs, sum := range want {
		require.Contains(t, got, attrs)
		assert.InDelta(t, sum, got[attrs].(metricdata.Sum[float64]).DataPoints[0].Value, 1e-9)
	}
}

func TestStageMetricsCarryFunctionAndOutcome(t *testing.T) {
	f, collect := metricFixture(t)
	f.seedTestdataOrder(t)
	require.Equal(t, http.StatusOK, f.invoke("ApplyTax", readTestdata(t, "applytax_first_attempt.json")).Code)
	metrics := collect()
	duration := metrics["stage.duration"][set(attrFunction.String("ApplyTax"), attrOutcome.String("succeeded"))]
	require.NotNil(t, duration, "stage.duration by function and outcome: %v", metrics["stage.duration"])
	assert.Equal(t, uint64(1), duration.(metricdata.Histogram[float64]).DataPoints[0].Count)
	lag := metrics["stage.lag"][set(attrFunction.String("ApplyTax"))]
	require.NotNil(t, lag, "stage.lag by function: %v", metrics["stage.lag"])
	assert.Equal(t, uint64(1), lag.(metricdata.Histogram[float64]).DataPoints[0].Count)
}

func TestAttrCacheGivesOneSetPerCombination(t *testing.T) {
	var c attrCache
	a, b := attrFunction.String("ApplyTax"), attrOutcome.String("succeeded")
	assert.Equal(t, c.of(a, b), c.of(a, b), "the same values: the same option")
	assert.NotEqual(t, c.of(a), c.of(a, b))
	assert.NotEqual(t, c.of(a, b), c.of(a, attrOutcome.String("transient")))
}

func BenchmarkAttrCache(b *testing.B) {
	var c attrCache
	b.ReportAllocs()
	for b.Loop() {
		c.of(attrFunction.String("ApplyTax"), attrOperation.String("append_events"))
	}
}
