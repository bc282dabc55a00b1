package handlers

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// invocationHeader carries the host's invocation id.
const invocationHeader = "X-Azure-Functions-InvocationId"

type statsKey struct{}

// stats accumulates what one invocation cost.
type stats struct {
	mu sync.Mutex
	ru float64
}

func (s *stats) add(ru float32) {
	s.mu.Lock()
	s.ru += float64(ru)
	s.mu.Unlock()
}

func (s *stats) total() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ru
}

// ObserveCharge records the request charge of one Cosmos DB call against
// the invocation in ctx and logs it at debug level. main wires it into the
// store.
func ObserveCharge(ctx context.Context, op string, ru float32) {
	if st, ok := ctx.Value(statsKey{}).(*stats); ok {
		st.add(ru)
	}
	zerolog.Ctx(ctx).Debug().Str("op", op).Float32("ru", ru).Msg("cosmos call")
}

// invocation gives each call a logger with function and invocation_id and
// logs its duration, outcome and request units when it ends.
func (s *Server) invocation(fn string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		log := s.Log.With().Str("function", fn).Str("invocation_id", r.Header.Get(invocationHeader)).Logger()
		st := &stats{}
		ctx := context.WithValue(log.WithContext(r.Context()), statsKey{}, st)
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
// so the invocation's closing line carries them.
func noteOrder(ctx context.Context, o order.Order) {
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
