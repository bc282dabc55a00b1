package handlers

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/rs/zerolog"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// Field names the request member at fault (an extension member).
	Field string `json:"field,omitempty"`
}

// requestError is an error found in the HTTP request itself, before the
// domain sees it (bad JSON, wrong content type, a body too large).
type requestError struct {
	status int
	kind   string
	field  string
	detail string
}

func (e *requestError) Error() string { return e.detail }

func badRequest(field, detail string) error {
	return &requestError{status: http.StatusBadRequest, kind: "invalid-request", field: field, detail: detail}
}

// statusTable maps domain errors to HTTP answers; the first match wins.
var statusTable = []struct {
	err    error
	status int
	kind   string
}{
	{order.ErrNotFound, http.StatusNotFound, "not-found"},
	{order.ErrIdempotencyMismatch, http.StatusUnprocessableEntity, "idempotency-key-reused"},
	{order.ErrConflict, http.StatusConflict, "conflict"},
	{order.ErrInvalidTransition, http.StatusConflict, "invalid-transition"},
	{order.ErrUnavailable, http.StatusServiceUnavailable, "unavailable"},
}

// toProblem decides the answer to err. Only 4xx answers carry the error's
// text; a 5xx says what failed without the SDK's words.
func toProblem(err error) Problem {
	var re *requestError
	var ve *order.ValidationError
	switch {
	case errors.As(err, &re):
		return newProblem(re.status, re.kind, re.detail, re.field)
	case errors.As(err, &ve) && ve.Unprocessable:
		return newProblem(http.StatusUnprocessableEntity, "unprocessable", ve.Error(), ve.Field)
	case errors.As(err, &ve):
		return newProblem(http.StatusBadRequest, "invalid-request", ve.Error(), ve.Field)
	}
	for _, row := range statusTable {
		if errors.Is(err, row.err) {
			p := newProblem(row.status, row.kind, "", "")
			if row.status < 500 {
				p.Detail = err.Error()
			}
			return p
		}
	}
	return newProblem(http.StatusInternalServerError, "internal", "", "")
}

func newProblem(status int, kind, detail, field string) Problem {
	return Problem{Type: "urn:orderpipeline:problem:" + kind, Title: http.StatusText(status),
		Status: status, Detail: detail, Field: field}
}

// problem answers err as application/problem+json; 5xx are logged as errors.
func (s *Server) problem(w http.ResponseWriter, r *http.Request, err error) {
	p := toProblem(err)
	p.Instance = r.URL.Path
	if p.Status >= 500 {
		zerolog.Ctx(r.Context()).Error().Err(err).Int("status", p.Status).Msg("request failed")
	}
	if p.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, "application/problem+json", p.Status, p)
}

func writeJSON(w http.ResponseWriter, contentType string, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"title":"Internal Server Error","status":500}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
