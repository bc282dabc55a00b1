package cosmos

import (
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// The control endpoint, /_emulator/..., is the emulator's own, not Cosmos
// DB's. A request must carry the account key in X-Emulator-Key.
//
//	GET    /_emulator/faults   the active faults
//	POST   /_emulator/faults   start the fault in the body; 201 with its state
//	DELETE /_emulator/faults   end every fault
//	GET    /_emulator/budgets  throughput budgets and what they throttled
const (
	controlPrefix   = "/_emulator/"
	hdrEmulatorKey  = "X-Emulator-Key"
	maxControlBytes = 64 << 10
)

func isControl(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, controlPrefix) }

func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	if subtle.ConstantTimeCompare([]byte(r.Header.Get(hdrEmulatorKey)), []byte(s.opts.Key)) != 1 {
		problem(w, http.StatusUnauthorized, "The control endpoint needs the account key in "+hdrEmulatorKey+".")
		return
	}
	switch strings.TrimPrefix(r.URL.Path, controlPrefix) + " " + r.Method {
	case "faults GET":
		controlJSON(w, http.StatusOK, s.Faults())
	case "faults POST":
		s.postFault(w, r)
	case "faults DELETE":
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	case "budgets GET":
		controlJSON(w, http.StatusOK, s.Budgets())
	default:
		problem(w, http.StatusNotFound, "No control operation "+r.Method+" "+r.URL.Path+".")
	}
}

func (s *Server) postFault(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxControlBytes+1))
	if err != nil || len(body) > maxControlBytes {
		problem(w, http.StatusRequestEntityTooLarge, "The fault must be a JSON object of at most 64 KiB.")
		return
	}
	var f Fault
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		problem(w, http.StatusBadRequest, "The fault is not valid JSON: "+err.Error())
		return
	}
	st, err := s.InjectFault(f)
	if err != nil {
		problem(w, http.StatusBadRequest, err.Error())
		return
	}
	controlJSON(w, http.StatusCreated, st)
}

func controlJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v)
	w.Header().Set("Content-Type", contentTypeJSON)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// problem answers an RFC 9457 problem.
func problem(w http.ResponseWriter, status int, detail string) {
	body, _ := json.Marshal(map[string]any{"type": "about:blank", "title": http.StatusText(status), "status": status, "detail": detail})
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
