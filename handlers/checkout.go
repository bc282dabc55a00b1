package handlers

import (
	"bytes"
	"context"
	"encoding/json"
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

// checkout answers POST /api/orders: it validates the request, prices it
// from the catalog and appends OrderPlaced. With an Idempotency-Key the
// order id derives from the key, so a retry finds the first order and a
// concurrent duplicate loses the create race instead of making a second one.
func (s *Server) checkout(w http.ResponseWriter, r *http.Request) error {
	req, err := readPlaceRequest(r)
	if err != nil {
		return err
	}
	key, corr, err := checkoutHeaders(r)
	if err != nil {
		return err
	}
	id := order.NewID()
	if key != "" {
		id = order.IDForKey(key)
		if replayed, err := s.replayCheckout(w, r, id, req); replayed || err != nil {
			return err
		}
	}
	o, err := s.place(r.Context(), req, order.Placement{ID: id, CorrelationID: corr, IdempotencyKey: key, At: s.Now()})
	if errors.Is(err, order.ErrConflict) && key != "" {
		_, err = s.replayCheckout(w, r, id, req)
		return err
	}
	if err != nil {
		return err
	}
	noteOrder(r.Context(), o)
	respondPlaced(w, o, false)
	return nil
}

func (s *Server) place(ctx context.Context, req order.PlaceRequest, p order.Placement) (order.Order, error) {
	if _, err := s.Tax.Jurisdiction(req.ShipTo); err != nil {
		return order.Order{}, err
	}
	skus := make([]string, len(req.Lines))
	for i, l := range req.Lines {
		skus[i] = l.SKU
	}
	products, err := s.Catalog.Products(ctx, skus)
	if err != nil {
		return order.Order{}, err
	}
	o, placed, err := order.Place(req, products, p)
	if err != nil {
		return order.Order{}, err
	}
	placed.TraceParent = s.tel.traceParent(ctx)
	if err := s.Orders.CreateOrder(ctx, o, placed); err != nil {
		return order.Order{}, fmt.Errorf("create order %s: %w", o.ID, err)
	}
	return o, nil
}

// replayCheckout answers a request whose Idempotency-Key already placed an
// order: the first answer again, or 422 if the body differs.
func (s *Server) replayCheckout(w http.ResponseWriter, r *http.Request, id string, req order.PlaceRequest) (bool, error) {
	o, err := s.Orders.Order(r.Context(), id)
	if errors.Is(err, order.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if o.RequestHash != req.Hash() {
		return false, fmt.Errorf("Idempotency-Key of order %s: %w", id, order.ErrIdempotencyMismatch)
	}
	placed, err := s.Orders.Event(r.Context(), id, order.OrderPlaced)
	if err != nil {
		return false, err
	}
	var first order.Order
	if err := first.Apply(placed); err != nil {
		return false, err
	}
	noteOrder(r.Context(), first)
	respondPlaced(w, first, true)
	return true, nil
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
// strictly: one JSON object, no unknown fields, every type right.
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

func decodeStrict(body []byte, v any) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return badRequest("", "the body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return describeJSONError(err)
	}
	if dec.More() {
		return badRequest("", "the body must hold exactly one JSON object")
	}
	return nil
}

// describeJSONError turns encoding/json's errors into a field and a reason.
func describeJSONError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return badRequest("", fmt.Sprintf("malformed JSON at byte %d: %v", syntax.Offset, syntax))
	case errors.As(err, &typ):
		return badRequest(typ.Field, fmt.Sprintf("%s must be %s, not %s", typ.Field, jsonType(typ.Type.Kind().String()), typ.Value))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("", "malformed JSON: the body ends too early")
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return badRequest(name, fmt.Sprintf("unknown field %q", name))
	}
	return badRequest("", "malformed JSON: "+err.Error())
}

func jsonType(kind string) string {
	switch kind {
	case "int", "int64", "int32":
		return "an integer"
	case "float64":
		return "a number"
	case "string":
		return "a string"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return kind
}
