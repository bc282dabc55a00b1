package handlers

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// invocationHeader carries the host's invocation id.
const invocationHeader = "X-Azure-Functions-InvocationId"

type statsKey struct{}

// stats accumulates what one invocation, or one event within it, cost; an
// event's charge counts towards its invocation's too.
type stats struct {
	fn     string
	tel    *telemetry
	parent *stats
	mu     sync.Mutex
	ru     float64
}

func (s *stats) add(ru float32) {
	for ; s != nil; s = s.parent {
		s.mu.Lock()
		s.ru += float64(ru)
		s.mu.Unlock()
	}
}

func withStats(ctx context.Context, st *stats) context.Context {
	return context.WithValue(ctx, statsKey{}, st)
}

// childStats starts an event's tally under the invocation's in ctx.
func childStats(ctx context.Context) *stats {
	parent, _ := ctx.Value(statsKey{}).(*stats)
	st := &stats{parent: parent}
	if parent != nil {
		st.fn, st.tel = parent.fn, parent.tel
	}
	return st
}

func (s *stats) total() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ru
}

// ObserveCharge records the request charge of one Cosmos DB call against
// the invocation in ctx (and its cosmos.request_units metric, by function
// and operation) and logs it at debug level. main wires it into the store.
func ObserveCharge(ctx context.Context, op string, ru float32) {
	if st, ok := ctx.Value(statsKey{}).(*stats); ok {
		st.add(ru)
		st.tel.requestUnits.Add(ctx, float64(ru), st.tel.attrs.of(attrFunction.String(st.fn), attrOperation.String(op)))
	}
	zerolog.Ctx(ctx).Debug().Str("op", op).Float32("ru", ru).Msg("cosmos call")
}

// invocation gives each call a logger with function and invocation_id and
// logs its duration, outcome and request units when it ends.
func (s *Server) invocation(fn string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		logc := s.Log.With().Str("function", fn).Str("invocation_id", r.Header.Get(invocationHeader))
		if sc := trace.SpanContextFromContext(r.Context()); sc.IsValid() {
			logc = logc.Str("trace_id", sc.TraceID().String()).Str("span_id", sc.SpanID().String())
		}
		log := logc.Logger()
		st := &stats{fn: fn, tel: s.tel}
		ctx := withStats(log.WithContext(r.Context()), st)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r.WithContext(ctx))
		level := zerolog.InfoLevel
		if rec.status >= http.StatusInternalServerError {
			level = zerolog.WarnLevel
		}
		zerolog.Ctx(ctx).WithLevel(level).Int("status", rec.status).Str("outcome", outcome(rec.status)).
			Float64("duration_ms", float64(time.Since(start).Microseconds())/1000).
			Float64("ru", st.total()).Msg("invocation finished")
	})
}

// withOrder adds order_id and correlation_id to the invocation's logger.
func withOrder(ctx context.Context, orderID, correlationID string) context.Context {
	log := zerolog.Ctx(ctx).With().Str("order_id", orderID).Str("correlation_id", correlationID).Logger()
	return log.WithContext(ctx)
}

// noteOrder adds order_id and correlation_id to the logger already in ctx,
// so the invocation's closing line carries them, and the order id to the
// request's span.
func noteOrder(ctx context.Context, o order.Order) {
	trace.SpanFromContext(ctx).SetAttributes(attrOrderID.String(o.ID))
	zerolog.Ctx(ctx).UpdateContext(func(c zerolog.Context) zerolog.Context {
		return c.Str("order_id", o.ID).Str("correlation_id", o.CorrelationID)
	})
}

func outcome(status int) string {
	if status < http.StatusBadRequest {
		return "succeeded"
	}
	return "failed"
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// serverSpan runs a forwarded HTTP function in a server span named after it,
// continuing the caller's W3C traceparent when there is one.
func (s *Server) serverSpan(fn string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := s.tel.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := s.tel.tracer.Start(ctx, fn, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method)))
		defer span.End()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r.WithContext(ctx))
		span.SetAttributes(attrStatusCode.Int(rec.status), attrOutcome.String(outcome(rec.status)))
		if rec.status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(rec.status))
		}
		if fn == "Checkout" {
			s.tel.placed.Add(ctx, 1, s.tel.attrs.of(attrOutcome.String(outcome(rec.status)), attrStatusCode.Int(rec.status)))
		}
	})
}
