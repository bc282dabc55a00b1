package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// MaxCheckoutBody is the largest checkout request accepted.
const MaxCheckoutBody = 64 << 10

var headerValuePattern = regexp.MustCompile(`^[\x21-\x7e]{1,255}$`)

// IdempotencyRecords keeps the record of each customer's Idempotency-Key.
type IdempotencyRecords interface {
	// CreateIdempotencyRecord fails with order.ErrConflict if the record exists.
	CreateIdempotencyRecord(ctx context.Context, rec order.IdempotencyRecord) error
	IdempotencyRecord(ctx context.Context, id string) (order.IdempotencyRecord, error)
}

// checkout answers POST /api/orders: it validates the request, prices it
// from the catalog and writes the order with its OrderPlaced event. The
// order id is random; a request with an Idempotency-Key goes through
// checkoutOnce.
func (s *Server) checkout(w http.ResponseWriter, r *http.Request) error {
	req, err := readPlaceRequest(r)
	if err != nil {
		return err
	}
	key, corr, err := checkoutHeaders(r)
	if err != nil {
		return err
	}
	p := order.Placement{ID: order.NewID(), CorrelationID: corr, IdempotencyKey: key, At: s.Now()}
	if key != "" {
		return s.checkoutOnce(w, r, req, p)
	}
	o, placed, err := s.place(r.Context(), req, p)
	if err != nil {
		return err
	}
	if err := s.createOrder(r.Context(), o, placed); err != nil {
		return err
	}
	noteOrder(r.Context(), o)
	respondPlaced(w, o, false)
	return nil
}

// checkoutOnce places the order of one customer's Idempotency-Key at most
// once (README, "Order ids and idempotency"). The key's record is created
// before the order and holds the order and its OrderPlaced event; the
// order batch follows. The record is created without being read first: a
// first request, the common case, costs no read. A retry or a concurrent
// duplicate loses the record create (409) and reads the record there is.
// Either finishes the order from the record if it is not written yet (the
// first request is still in flight, or died between the two writes) and
// answers with the record's order, so every path ends with one order and
// the first answer.
func (s *Server) checkoutOnce(w http.ResponseWriter, r *http.Request, req order.PlaceRequest, p order.Placement) error {
	ctx := r.Context()
	id := order.IdempotencyRecordID(req.CustomerID, p.IdempotencyKey)
	o, placed, err := s.place(ctx, req, p)
	if err != nil {
		// The request cannot be placed now (a SKU left the catalog, say),
		// but a retry of one placed before still gets its order.
		if rec, rerr := s.Idempotency.IdempotencyRecord(ctx, id); rerr == nil {
			return s.replayCheckout(w, r, rec, req)
		}
		return err
	}
	err = s.Idempotency.CreateIdempotencyRecord(ctx, order.NewIdempotencyRecord(p.IdempotencyKey, req, o, placed))
	if errors.Is(err, order.ErrConflict) {
		rec, err := s.Idempotency.IdempotencyRecord(ctx, id)
		if err != nil {
			return fmt.Errorf("read idempotency record after losing its create: %w", err)
		}
		return s.replayCheckout(w, r, rec, req)
	}
	if err != nil {
		return fmt.Errorf("create idempotency record: %w", err)
	}
	if err := s.createOrder(ctx, o, placed); err != nil {
		return err
	}
	noteOrder(ctx, o)
	respondPlaced(w, o, false)
	return nil
}

func (s *Server) place(ctx context.Context, req order.PlaceRequest, p order.Placement) (order.Order, order.Event, error) {
	if _, err := s.Tax.Jurisdiction(req.ShipTo); err != nil {
		return order.Order{}, order.Event{}, err
	}
	skus := make([]string, len(req.Lines))
	for i, l := range req.Lines {
		skus[i] = l.SKU
	}
	products, err := s.Catalog.Products(ctx, skus)
	if err != nil {
		return order.Order{}, order.Event{}, err
	}
	o, placed, err := order.Place(req, products, p)
	// The order's trace starts here (or continues the caller's): the stage
	// that handles OrderPlaced continues it from the event.
	placed.TraceParent = s.tel.traceParent(ctx)
	return o, placed, err
}

// createOrder writes a new order and its OrderPlaced event in one batch.
// Order ids are random, so an order that already has this id is this one:
// written by a duplicate finishing it from the idempotency record, or by
// an earlier try of this very call that azcore retried after a timeout.
func (s *Server) createOrder(ctx context.Context, o order.Order, placed order.Event) error {
	err := s.Placements.CreateOrder(ctx, o, placed)
	if err != nil && !errors.Is(err, order.ErrConflict) {
		return fmt.Errorf("create order %s: %w", o.ID, err)
	}
	return nil
}

// replayCheckout answers a request whose Idempotency-Key has a record: the
// first answer again, after making sure its order is written, or 422 if
// the body differs. The 422 names no order.
func (s *Server) replayCheckout(w http.ResponseWriter, r *http.Request, rec order.IdempotencyRecord, req order.PlaceRequest) error {
	if !rec.Matches(req) {
		return fmt.Errorf("Idempotency-Key: %w", order.ErrIdempotencyMismatch)
	}
	ctx := r.Context()
	_, err := s.Placements.Event(ctx, rec.Order.ID, order.OrderPlaced)
	if errors.Is(err, order.ErrNotFound) {
		err = s.createOrder(ctx, rec.Order, rec.Placed)
	}
	if err != nil {
		return err
	}
	noteOrder(ctx, rec.Order)
	respondPlaced(w, rec.Order, true)
	return nil
}

func respondPlaced(w http.ResponseWriter, o order.Order, replayed bool) {
	w.Header().Set("Location", "/api/orders/"+o.ID)
	w.Header().Set("X-Correlation-ID", o.CorrelationID)
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeJSON(w, "application/json", http.StatusAccepted, viewOf(o))
}

// checkoutHeaders reads Idempotency-Key and X-Correlation-ID.
func checkoutHeaders(r *http.Request) (key, corr string, err error) {
	key = r.Header.Get("Idempotency-Key")
	if key != "" && !headerValuePattern.MatchString(key) {
		return "", "", badRequest("Idempotency-Key", "must be 1-255 visible ASCII characters")
	}
	corr = r.Header.Get("X-Correlation-ID")
	if corr == "" {
		corr = strings.TrimPrefix(order.NewID(), "ord_")
	} else if !headerValuePattern.MatchString(corr) {
		return "", "", badRequest("X-Correlation-ID", "must be 1-255 visible ASCII characters")
	}
	return key, corr, nil
}

// readPlaceRequest enforces content type and size and decodes the body
// strictly (decode.go): one JSON object, exact member names, no duplicates,
// valid UTF-8, every type right; then validates it.
func readPlaceRequest(r *http.Request) (order.PlaceRequest, error) {
	var req order.PlaceRequest
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return req, &requestError{status: http.StatusUnsupportedMediaType, kind: "unsupported-media-type",
			detail: "send the order as Content-Type: application/json"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxCheckoutBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return req, &requestError{status: http.StatusRequestEntityTooLarge, kind: "body-too-large",
			detail: fmt.Sprintf("the body exceeds %d bytes", MaxCheckoutBody)}
	}
	if err != nil {
		return req, badRequest("", "the body could not be read")
	}
	if err := decodeStrict(body, &req); err != nil {
		return req, err
	}
	return req, req.Validate()
}
