package handlers

import (
	"encoding/json"
	"net/http"

	"github.com/rs/zerolog"
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

func newProblem(status int, kind, detail, field string) Problem {
	return Problem{Type: "urn:orderpipeline:problem:" + kind, Title: http.StatusText(status),
		Status: status, Detail: detail, Field: field}
}

// problem answers err as application/problem+json; 5xx are logged as errors.
func (s *Server) problem(w http.ResponseWriter, r *http.Request, err error) {
	p := toProblem(err)
	p.Instance = r.URL.Path
	if p.Status >= http.StatusInternalServerError {
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
