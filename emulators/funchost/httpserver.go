package funchost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/net/netutil"
)

// httpFront is the host's HTTP listener: built-in routes, then functions.
type httpFront struct {
	h       *Host
	rt      *router
	forward bool // host.json customHandler.enableForwardingHttpRequest
	limits  httpLimits
}

func (s *httpFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.builtIn(w, r) {
		return
	}
	f, params, allow := s.rt.find(r.URL.EscapedPath(), r.Method)
	if f == nil {
		notFound(w, allow)
		return
	}
	if !s.authorize(w, r, f) || !s.admitBody(w, r) {
		return
	}
	id := uuid.NewString()
	start := time.Now()
	var status int
	if s.forward && f.forwardable() {
		status = s.forwardRequest(w, r, id)
	} else {
		status = s.invokeEnvelope(w, r, f, params, id)
	}
	s.h.con.invoked(f.Name, id, time.Since(start), httpOutcome(status))
}

// builtIn serves the host's own routes: GET / (open) and /admin/* (master key).
func (s *httpFront) builtIn(w http.ResponseWriter, r *http.Request) bool {
	path := r.URL.EscapedPath()
	if path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "Your Functions 4.0 app is up and running\n") //nolint:errcheck // client went away
		return true
	}
	var body any
	switch strings.ToLower(path) {
	case "/admin/host/status":
		body = map[string]any{"id": s.h.hostID, "instanceId": s.h.id, "state": "Running", "version": hostVersion, "primary": s.h.IsPrimary()}
	case "/admin/functions":
		body = s.h.functionList()
	default:
		return false
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeProblem(w, http.StatusMethodNotAllowed, "this route answers GET only")
		return true
	}
	if s.h.keys.level(r, "") >= levelAdmin {
		writeJSON(w, http.StatusOK, body)
	} else {
		writeProblem(w, http.StatusUnauthorized, "the admin API needs the master key in the x-functions-key header or the code query parameter")
	}
	return true
}

// authorize enforces the function's authLevel; it answers 401 itself.
func (s *httpFront) authorize(w http.ResponseWriter, r *http.Request, f *function) bool {
	need := authLevelOf(f.HTTP.AuthLevel)
	if need == levelAnonymous || s.h.keys.level(r, f.Name) >= need {
		return true
	}
	writeProblem(w, http.StatusUnauthorized, fmt.Sprintf("function %s needs a key (authLevel %q) in the x-functions-key header or the code query parameter", f.Name, f.HTTP.AuthLevel))
	return false
}

// admitBody refuses a declared body over the limit before reading any of
// it, and caps an undeclared (chunked) one while it streams.
func (s *httpFront) admitBody(w http.ResponseWriter, r *http.Request) bool {
	if r.ContentLength > s.limits.MaxBodyBytes {
		writeTooLarge(w, s.limits.MaxBodyBytes)
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.limits.MaxBodyBytes)
	return true
}

func writeTooLarge(w http.ResponseWriter, limit int64) {
	writeProblem(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than the host's limit of %d bytes (%s)", limit, settingBodyLimit))
}

// notFound answers 404, or 405 with Allow when the path exists for other methods.
func notFound(w http.ResponseWriter, allow []string) {
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeProblem(w, http.StatusMethodNotAllowed, "this route answers "+strings.Join(allow, ", "))
		return
	}
	writeProblem(w, http.StatusNotFound, "no function answers this path")
}

func httpOutcome(status int) string {
	if status == 0 {
		return "Failed"
	}
	return "Succeeded, Status=" + http.StatusText(status)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) //nolint:errcheck // the client went away
}

// httpLimits bound what one client can hold: body size, time per phase of
// a request, and the number of open connections.
type httpLimits struct {
	MaxBodyBytes      int64
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration // headers and body
	WriteTimeout      time.Duration // from the end of the headers to the end of the response
	IdleTimeout       time.Duration
	MaxConnections    int
}

// settingBodyLimit is Azure's app setting for the request body limit.
const settingBodyLimit = "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT"

// DefaultMaxRequestBodyBytes is Azure's request body limit (100 MB).
const DefaultMaxRequestBodyBytes = 104857600

// Defaults for Config's HTTP limits.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = time.Minute
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultMaxConnections    = 512
)

// httpLimits resolves the HTTP limits from Config, then the
// FUNCTIONS_REQUEST_BODY_SIZE_LIMIT app setting, then the defaults.
func (h *Host) httpLimits() (httpLimits, error) {
	c := h.cfg
	l := httpLimits{MaxBodyBytes: c.MaxRequestBodyBytes, ReadHeaderTimeout: c.ReadHeaderTimeout, ReadTimeout: c.ReadTimeout,
		WriteTimeout: c.WriteTimeout, IdleTimeout: c.IdleTimeout, MaxConnections: c.MaxConnections}
	if l.MaxBodyBytes == 0 {
		n, err := h.settings.bytes(settingBodyLimit, DefaultMaxRequestBodyBytes)
		if err != nil {
			return l, err
		}
		l.MaxBodyBytes = n
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&l.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	def(&l.ReadTimeout, DefaultReadTimeout)
	def(&l.IdleTimeout, DefaultIdleTimeout)
	def(&l.WriteTimeout, l.ReadTimeout+h.hc.FunctionTimeout+10*time.Second)
	if l.MaxConnections <= 0 {
		l.MaxConnections = DefaultMaxConnections
	}
	return l, nil
}

// listenHTTP opens the listener, so the address is known before serving.
func (h *Host) listenHTTP() error {
	ln, err := net.Listen("tcp", h.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", h.cfg.Addr, err)
	}
	h.ln = ln
	return nil
}

// serveHTTP serves on the listener with the limits applied.
func (h *Host) serveHTTP() error {
	limits, err := h.httpLimits()
	if err != nil {
		return err
	}
	h.srv = &http.Server{
		Handler:           &httpFront{h: h, rt: h.rt, forward: h.hc.Forwarding, limits: limits},
		ReadHeaderTimeout: limits.ReadHeaderTimeout,
		ReadTimeout:       limits.ReadTimeout,
		WriteTimeout:      limits.WriteTimeout,
		IdleTimeout:       limits.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
	}
	go h.srv.Serve(netutil.LimitListener(h.ln, limits.MaxConnections)) //nolint:errcheck // returns ErrServerClosed on Close
	return nil
}

// stopHTTP gives in-flight requests a moment to finish, then closes every
// connection, so a stalled upload never holds up Ctrl-C.
func (h *Host) stopHTTP() error {
	if h.srv == nil {
		if h.ln != nil {
			h.ln.Close()
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), httpShutdownGrace)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("stop HTTP listener: %w", err)
	}
	if err := h.srv.Close(); err != nil {
		return fmt.Errorf("close HTTP connections: %w", err)
	}
	return nil
}

// httpShutdownGrace is how long Close lets in-flight HTTP requests finish.
const httpShutdownGrace = 300 * time.Millisecond
