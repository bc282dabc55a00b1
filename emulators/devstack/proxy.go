package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

// roundRobin is the front door of a fleet: one port, every request to the
// next live instance in turn, as Azure's front end spreads HTTP requests
// over a function app's instances. Bodies stream both ways (no
// buffering), and the instance's answer, 4xx and 5xx included, passes
// through unchanged.
type roundRobin struct {
	mu       sync.Mutex
	backends []*url.URL // live instances
	next     int
	proxy    *httputil.ReverseProxy
}

func newRoundRobin() *roundRobin {
	rr := &roundRobin{}
	rr.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(pr.In.Context().Value(backendKey{}).(*url.URL))
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
		},
		FlushInterval: -1,
		Transport: &http.Transport{Proxy: nil, DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second, DisableCompression: true},
		ErrorHandler: rr.failed,
	}
	return rr
}

type backendKey struct{}

func (rr *roundRobin) add(u *url.URL) {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	rr.backends = append(rr.backends, u)
}

// remove takes an instance out of the rotation (it exited).
func (rr *roundRobin) remove(u *url.URL) {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	for i, b := range rr.backends {
		if b == u {
			rr.backends = append(rr.backends[:i:i], rr.backends[i+1:]...)
			return
		}
	}
}

func (rr *roundRobin) pick() *url.URL {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if len(rr.backends) == 0 {
		return nil
	}
	rr.next = (rr.next + 1) % len(rr.backends)
	return rr.backends[rr.next]
}

func (rr *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rr.serve(w, r, 0)
}

// serve sends r to the next instance; tries counts the instances that
// already refused the connection.
func (rr *roundRobin) serve(w http.ResponseWriter, r *http.Request, tries int) {
	u := rr.pick()
	if u == nil {
		problem(w, http.StatusServiceUnavailable, "No instance is running", "Every local Functions host instance of the fleet has exited.")
		return
	}
	ctx := context.WithValue(r.Context(), backendKey{}, u)
	rr.proxy.ServeHTTP(w, r.WithContext(context.WithValue(ctx, attemptKey{}, attempt{r, tries})))
}

// attempt is the client's request and how many instances refused it.
type attempt struct {
	in    *http.Request
	tries int
}

type attemptKey struct{}

// failed answers 502 when an instance failed. A request without a body
// that an instance refused to connect (it died before it left the
// rotation) goes to the next one instead: nothing of it was sent.
func (rr *roundRobin) failed(w http.ResponseWriter, r *http.Request, err error) {
	var op *net.OpError
	a, _ := r.Context().Value(attemptKey{}).(attempt)
	bodyless := a.in != nil && a.in.ContentLength == 0 && len(a.in.TransferEncoding) == 0
	if errors.As(err, &op) && op.Op == "dial" && bodyless && a.tries+1 < rr.size() {
		rr.serve(w, a.in, a.tries+1)
		return
	}
	problem(w, http.StatusBadGateway, "The instance did not answer", "The local Functions host instance this request went to failed: "+err.Error())
}

func (rr *roundRobin) size() int {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return len(rr.backends)
}

func problem(w http.ResponseWriter, status int, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "title": title, "status": status, "detail": detail})
}
