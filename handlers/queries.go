package handlers

import (
	"fmt"
	"net/http"
	"regexp"

	"github.com/ordersflow/orderpipeline/shared/catalog"
	"github.com/ordersflow/orderpipeline/shared/order"
)

// Ids in paths are checked before any Cosmos DB call: order ids are what
// order.NewID makes, dead letter ids what deadletter.ID makes from a
// function name and a document id of ours. Anything else ("..", a NUL, an
// emoji, a slash) is a 404 problem, never a request to Cosmos DB.
var (
	orderIDPattern      = regexp.MustCompile(`^ord_[0-9a-f]{32}$`)
	deadLetterIDPattern = regexp.MustCompile(`^([A-Za-z]{1,64})~[A-Za-z0-9_:.\-]{1,255}$`)
)

// getOrder answers GET /api/orders/{id}: the order and its event history.
func (s *Server) getOrder(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !orderIDPattern.MatchString(id) {
		return fmt.Errorf("order %s: %w", order.Excerpt(id), order.ErrNotFound)
	}
	o, err := s.History.Order(r.Context(), id)
	if err != nil {
		return err
	}
	noteOrder(r.Context(), o)
	events, err := s.History.Events(r.Context(), id)
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
	id := r.PathValue("id")
	if m := deadLetterIDPattern.FindStringSubmatch(id); m == nil || !s.knownStage(m[1]) {
		return fmt.Errorf("dead letter %s: %w", order.Excerpt(id), order.ErrNotFound)
	}
	d, err := s.DeadLetters.DeadLetter(ctx, id)
	if err != nil {
		return err
	}
	st, ok := s.stages[d.Function]
	if !ok {
		return fmt.Errorf("dead letter %s names unknown function %q: %w", d.ID, d.Function, order.ErrPermanent)
	}
	if err := st.withRun(s.traced(d.Function, nil, st.run)).handle(ctx, d.Document); err != nil {
		return replayError(d.ID, err)
	}
	if err := s.DeadLetters.DeleteDeadLetter(ctx, d.ID); err != nil {
		return err
	}
	s.tel.replayed.Add(ctx, 1, s.tel.attrs.of(attrFunction.String(d.Function)))
	writeJSON(w, "application/json", http.StatusOK, map[string]string{"id": d.ID, "function": d.Function, "outcome": "replayed"})
	return nil
}

// replayError answers a replay that failed again: 409 if the document still
// can't be processed, the table's 503 if a dependency is still down, and a
// 500 (without the error's text) for an error outside the vocabulary.
func replayError(id string, err error) error {
	if v, known := classify(err); !known || v.retry == transient {
		return fmt.Errorf("replay %s: %w", id, err)
	}
	return &requestError{status: http.StatusConflict, kind: "replay-failed",
		detail: fmt.Sprintf("dead letter %s still cannot be processed: %v", id, err)}
}

func (s *Server) knownStage(fn string) bool {
	_, ok := s.stages[fn]
	return ok
}
