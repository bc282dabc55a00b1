package cosmos

import (
	"encoding/json"
	"net/http"
	"strings"
)

// The control plane is the emulator's own operator API, under
// /_emulator/, signed with the account key like any Cosmos DB request
// (resource type "_emulator", resource link the path after the prefix).
// Errors are RFC 9457 problem+json.
const controlPrefix = "/_emulator/"

// controlHandlers maps "METHOD path-after-prefix" to its handler; the
// files that add operations register them in init.
var controlHandlers = map[string]func(*Server, http.ResponseWriter, *http.Request) error{}

func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, controlPrefix)
	if err := s.auth.verify(r, route{resourceType: "_emulator", resourceLink: name}); err != nil {
		writeProblem(w, err)
		return
	}
	h, ok := controlHandlers[r.Method+" "+name]
	if !ok {
		writeProblem(w, newError(http.StatusNotFound, "No control operation %s %s.", r.Method, r.URL.Path))
		return
	}
	if err := h(s, w, r); err != nil {
		writeProblem(w, err)
	}
}

// writeProblem answers an error as RFC 9457 problem+json.
func writeProblem(w http.ResponseWriter, err error) {
	e, ok := err.(*apiError)
	if !ok {
		e = newError(http.StatusInternalServerError, "%v", err)
	}
	body, _ := json.Marshal(map[string]any{
		"type": "about:blank", "title": http.StatusText(e.status), "status": e.status, "detail": e.message,
	})
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(e.status)
	_, _ = w.Write(body)
}
