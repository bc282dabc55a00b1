package handlers

import (
	"fmt"
	"net/http"
	"regexp"

	"go.opentelemetry.io/otel/metric"

	"github.com/ordersflow/orderpipeline/shared/catalog"
	"github.com/ordersflow/orderpipeline/shared/order"
)

var orderIDPattern = regexp.MustCompile(`^ord_[0-9a-f]{24}$`)

// getOrder answers GET /api/orders/{id}: the order and its event history.
func (s *Server) getOrder(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !orderIDPattern.MatchString(id) {
		return fmt.Errorf("order %q: %w", id, order.ErrNotFound)
	}
	o, err := s.Orders.Order(r.Context(), id)
	if err != nil {
		return err
	}
	noteOrder(r.Context(), o)
	events, err := s.Orders.Events(r.Context(), id)
	if err != nil {
		return err
	}
	v := viewOf(o)
	v.Events = eventViews(events)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, "application/json", http.StatusOK, v)
	return nil
}

// listProducts answers GET /api/products: the catalog with available stock.
func (s *Server) listProducts(w http.ResponseWriter, r *http.Request) error {
	items, err := s.Catalog.Catalog(r.Context())
	if err != nil {
		return err
	}
	if items == nil {
		items = []catalog.Listing{}
	}
	writeJSON(w, "application/json", http.StatusOK, map[string]any{"products": items})
	return nil
}

// listDeadLetters answers GET /api/ops/dead-letters.
func (s *Server) listDeadLetters(w http.ResponseWriter, r *http.Request) error {
	dls, err := s.DeadLetters.DeadLetters(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, "application/json", http.StatusOK, map[string]any{"deadLetters": dls})
	return nil
}

// replayDeadLetter answers POST /api/ops/dead-letters/{id}/replay: it runs
// the function's stage on the stored document again and, if that succeeds,
// removes the dead letter.
func (s *Server) replayDeadLetter(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	d, err := s.DeadLetters.DeadLetter(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	st, ok := s.stages[d.Function]
	if !ok {
		return fmt.Errorf("dead letter %s names unknown function %q: %w", d.ID, d.Function, order.ErrPermanent)
	}
	if err := st.withRun(s.traced(d.Function, nil, st.run)).handle(ctx, d.Document); err != nil {
		if order.IsTransient(err) {
			return fmt.Errorf("replay %s: %w", d.ID, err)
		}
		return &requestError{status: http.StatusConflict, kind: "replay-failed",
			detail: fmt.Sprintf("dead letter %s still cannot be processed: %v", d.ID, err)}
	}
	if err := s.DeadLetters.DeleteDeadLetter(ctx, d.ID); err != nil {
		return err
	}
	s.tel.replayed.Add(ctx, 1, metric.WithAttributes(attrFunction.String(d.Function)))
	writeJSON(w, "application/json", http.StatusOK, map[string]string{"id": d.ID, "function": d.Function, "outcome": "replayed"})
	return nil
}
