package funchost

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/google/uuid"
)

// httpFront is the host's HTTP listener: built-in routes, then functions.
type httpFront struct {
	h       *Host
	rt      *router
	forward bool // host.json customHandler.enableForwardingHttpRequest
	client  *http.Client
}

func (s *httpFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "Your Functions 4.0 app is up and running\n") //nolint:errcheck // client went away
		return
	case r.URL.Path == "/admin/host/status":
		writeJSON(w, http.StatusOK, map[string]string{"id": s.h.id, "state": "Running", "version": hostVersion})
		return
	case r.URL.Path == "/admin/functions":
		writeJSON(w, http.StatusOK, s.h.functionList())
		return
	}
	f, params := s.rt.find(r.URL.EscapedPath(), r.Method)
	if f == nil {
		http.NotFound(w, r)
		return
	}
	id := uuid.NewString()
	start := time.Now()
	outcome := "Succeeded"
	var status int
	if s.forward && f.forwardable() {
		status = s.forwardRequest(w, r, id)
	} else {
		status = s.invokeEnvelope(w, r, f, params, id)
	}
	if status == 0 {
		outcome = "Failed"
	}
	s.h.con.invoked(f.Name, id, time.Since(start), httpOutcome(outcome, status))
}

func httpOutcome(outcome string, status int) string {
	if status == 0 {
		return outcome
	}
	return outcome + ", Status=" + http.StatusText(status)
}

// forwardRequest sends the raw request to the handler at the same path
// and copies the raw response back. It returns 0 when the handler could
// not be reached (the caller got a 500).
func (s *httpFront) forwardRequest(w http.ResponseWriter, r *http.Request, id string) int {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return 0
	}
	target := s.h.proc.baseURL() + r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.h.hc.FunctionTimeout)
	defer cancel()
	resp, err := s.h.proc.sendToHandler(ctx, s.client, func() (*http.Request, error) {
		out, err := http.NewRequestWithContext(ctx, r.Method, target, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		copyHeaders(out.Header, r.Header)
		out.Host = r.Host
		if len(body) == 0 {
			out.Body, out.ContentLength = http.NoBody, 0
		}
		addHostHeaders(out.Header, id)
		return out, nil
	})
	if err != nil {
		s.h.con.printf("Functions forwarding to the custom handler failed: %v", err)
		w.WriteHeader(http.StatusInternalServerError)
		return 0
	}
	defer resp.Body.Close()
	copyHeaders(w.Header(), resp.Header)
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body) //nolint:errcheck // the caller or handler went away mid-body
	return resp.StatusCode
}

// hopHeaders are connection-level headers a proxy must not copy.
var hopHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true, "Proxy-Authorization": true,
	"Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true, "Proxy-Connection": true,
}

func copyHeaders(dst, src http.Header) {
	for k, vs := range src {
		if hopHeaders[http.CanonicalHeaderKey(k)] {
			continue
		}
		for _, v := range vs {
			dst.Add(k, v)
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) //nolint:errcheck // the client went away
}
