package handlers

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// instrumentation names the handler's tracer and meter.
const instrumentation = "github.com/ordersflow/orderpipeline/handlers"

// Attribute keys of the handler's spans and metrics.
const (
	attrOrderID    = attribute.Key("order.id")
	attrEventType  = attribute.Key("event.type")
	attrEventID    = attribute.Key("event.id")
	attrRetryCount = attribute.Key("retry.count")
	attrCharge     = attribute.Key("cosmos.request_charge")
	attrOutcome    = attribute.Key("outcome")
	attrFunction   = attribute.Key("function")
	attrOperation  = attribute.Key("operation")
	attrStatusCode = attribute.Key("http.response.status_code")
)

// telemetry is how the handler reports traces and metrics. The host hands a
// custom handler no trace context on trigger invocations, so every event
// document carries the traceparent of the span that wrote it, and the stage
// that handles the event continues the trace from there.
type telemetry struct {
	tracer trace.Tracer
	prop   propagation.TraceContext

	placed         metric.Int64Counter
	stageDuration  metric.Float64Histogram
	stageLag       metric.Float64Histogram
	requestUnits   metric.Float64Counter
	deadLetters    metric.Int64Counter
	replayed       metric.Int64Counter
	publishLatency metric.Float64Histogram

	attrs attrCache
}

// attrCache holds the attribute sets measurements are recorded with, one per
// combination of values (functions, operations, outcomes: a few dozen).
// metric.WithAttributes sorts and hashes its attributes into a new set on
// every call, which on every Cosmos DB call cost more than the instrument,
// a no-op unless OTLP export is on.
type attrCache struct{ sets sync.Map } // [2]attribute.KeyValue → metric.MeasurementOption

// of is metric.WithAttributes(kvs...) for one or two attributes.
func (c *attrCache) of(kvs ...attribute.KeyValue) metric.MeasurementOption {
	var key [2]attribute.KeyValue
	copy(key[:], kvs)
	if opt, ok := c.sets.Load(key); ok {
		return opt.(metric.MeasurementOption)
	}
	opt, _ := c.sets.LoadOrStore(key, metric.WithAttributes(key[:min(len(kvs), len(key))]...))
	return opt.(metric.MeasurementOption)
}

func newTelemetry(tp trace.TracerProvider, mp metric.MeterProvider) (*telemetry, error) {
	if tp == nil {
		tp = tracenoop.NewTracerProvider()
	}
	if mp == nil {
		mp = metricnoop.NewMeterProvider()
	}
	m := mp.Meter(instrumentation)
	t := &telemetry{tracer: tp.Tracer(instrumentation)}
	var errs [7]error
	t.placed, errs[0] = m.Int64Counter("orders.placed", metric.WithDescription("Checkout requests, by outcome and status code."))
	t.stageDuration, errs[1] = m.Float64Histogram("stage.duration", metric.WithUnit("s"),
		metric.WithDescription("Time a stage spent on one event, by function and outcome."))
	t.stageLag, errs[2] = m.Float64Histogram("stage.lag", metric.WithUnit("s"),
		metric.WithDescription("Time from an event's write to a stage starting on it, by function."))
	t.requestUnits, errs[3] = m.Float64Counter("cosmos.request_units", metric.WithUnit("{RU}"),
		metric.WithDescription("Cosmos DB request charge, by function and operation."))
	t.deadLetters, errs[4] = m.Int64Counter("deadletters.written", metric.WithDescription("Dead letters recorded, by function."))
	t.replayed, errs[5] = m.Int64Counter("deadletters.replayed", metric.WithDescription("Dead letters replayed successfully, by function."))
	t.publishLatency, errs[6] = m.Float64Histogram("servicebus.publish.duration", metric.WithUnit("s"),
		metric.WithDescription("Time to send one invocation's events to Service Bus, by outcome."))
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return t, nil
}

// traceParent is the W3C traceparent of the span in ctx ("" without one).
func (t *telemetry) traceParent(ctx context.Context) string {
	c := propagation.MapCarrier{}
	t.prop.Inject(ctx, c)
	return c["traceparent"]
}

// continueFrom returns ctx with the remote span of a stored traceparent as
// its parent; an empty or malformed one starts a new trace.
func (t *telemetry) continueFrom(ctx context.Context, traceParent string) context.Context {
	return t.prop.Extract(ctx, propagation.MapCarrier{"traceparent": traceParent})
}

// start begins a span and gives the context's logger its trace_id and
// span_id, so the lines logged under the span can be found from the trace.
func (t *telemetry) start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	ctx, span := t.tracer.Start(ctx, name, opts...)
	if sc := span.SpanContext(); sc.IsValid() {
		log := zerolog.Ctx(ctx).With().Str("trace_id", sc.TraceID().String()).Str("span_id", sc.SpanID().String()).Logger()
		ctx = log.WithContext(ctx)
	}
	return ctx, span
}

// traced wraps a stage so that each event runs in a span named after the
// function, the child of the span that wrote the event. A replay started by
// an operator links back to the operator's request.
func (s *Server) traced(fn string, rc *RetryContext, run func(context.Context, order.Event) error) func(context.Context, order.Event) error {
	return func(ctx context.Context, ev order.Event) error {
		opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(
			attrOrderID.String(ev.OrderID), attrEventType.String(string(ev.Type)), attrEventID.String(ev.ID),
			attrRetryCount.Int(rc.count()))}
		if caller := trace.SpanContextFromContext(ctx); caller.IsValid() {
			opts = append(opts, trace.WithLinks(trace.Link{SpanContext: caller}))
		}
		ctx, span := s.tel.start(s.tel.continueFrom(ctx, ev.TraceParent), fn, opts...)
		defer span.End()
		st := childStats(ctx)
		ctx = withStats(ctx, st)
		began := time.Now()
		s.tel.stageLag.Record(ctx, began.Sub(ev.At).Seconds(), s.tel.attrs.of(attrFunction.String(fn)))
		err := run(ctx, ev)
		outcome := outcomeOf(err)
		span.SetAttributes(attrCharge.Float64(st.total()), attrOutcome.String(outcome))
		s.tel.stageDuration.Record(ctx, time.Since(began).Seconds(),
			s.tel.attrs.of(attrFunction.String(fn), attrOutcome.String(outcome)))
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, outcome)
		}
		return err
	}
}

func outcomeOf(err error) string {
	switch {
	case err == nil:
		return "succeeded"
	case isTransient(err):
		return "transient"
	}
	return "permanent"
}

// stampTrace gives events the traceparent of the span in ctx, so the stage
// that handles each of them continues this trace.
func (s *Server) stampTrace(ctx context.Context, events []order.Event) {
	tp := s.tel.traceParent(ctx)
	for i := range events {
		events[i].TraceParent = tp
	}
}
