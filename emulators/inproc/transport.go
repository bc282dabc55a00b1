package inproc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
)

// Options describe the listener the transport stands for.
type Options struct {
	// TLS has the handler see Request.TLS set, as behind an https listener.
	TLS bool
	// MaxHeaderBytes is the server's http.Server.MaxHeaderBytes; 0 takes
	// http.DefaultMaxHeaderBytes, as http.Server does.
	MaxHeaderBytes int
}

// Transport serves requests with a handler in this process.
type Transport struct {
	h           http.Handler
	tls         *tls.ConnectionState
	headerLimit int
}

// New returns a transport that answers every request with h.
func New(h http.Handler, o Options) *Transport {
	t := &Transport{h: h, headerLimit: o.MaxHeaderBytes}
	if t.headerLimit <= 0 {
		t.headerLimit = http.DefaultMaxHeaderBytes
	}
	// net/http's server reads up to MaxHeaderBytes plus its 4 KB of
	// buffer slack before it answers 431.
	t.headerLimit += 4096
	if o.TLS {
		t.tls = &tls.ConnectionState{Version: tls.VersionTLS13, HandshakeComplete: true}
	}
	return t
}

// Do is RoundTrip under the name azcore's policy.Transporter calls.
func (t *Transport) Do(req *http.Request) (*http.Response, error) { return t.RoundTrip(req) }

// RoundTrip serves req with the handler and returns its response, or the
// caller's context error as soon as that context ends.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		closeBody(req)
		return nil, urlError(req, err)
	}
	sreq, body, err := t.serverRequest(req)
	if err != nil {
		closeBody(req)
		return nil, urlError(req, err)
	}
	if requestHeaderBytes(sreq) > t.headerLimit {
		closeBody(req)
		return headerTooLarge(req), nil
	}
	x := &exchange{w: newResponseWriter(sreq), done: make(chan struct{})}
	go x.serve(ctx, t.h, sreq)
	select {
	case <-x.done:
	case <-ctx.Done():
		body.detach(req)
		return nil, urlError(req, ctx.Err())
	}
	if err := body.detach(req); err != nil {
		return nil, urlError(req, err)
	}
	if x.panicked != nil {
		return nil, urlError(req, x.panicked)
	}
	return x.w.response(req), nil
}

// exchange is one request being served.
type exchange struct {
	w        *responseWriter
	done     chan struct{}
	panicked error // set before done is closed
}

// serve runs the handler with a context of its own, as net/http's server
// does: cancelled when the caller's context ends or the handler returns.
func (x *exchange) serve(ctx context.Context, h http.Handler, r *http.Request) {
	hctx, cancel := context.WithCancel(context.Background())
	stop := context.AfterFunc(ctx, cancel)
	defer func() {
		stop()
		cancel()
		if p := recover(); p != nil {
			x.panicked = fmt.Errorf("inproc: handler panicked: %v", p)
		}
		close(x.done)
	}()
	h.ServeHTTP(x.w, r.WithContext(hctx))
	x.w.finish()
}

// serverRequest is req as net/http's server would parse it off the wire.
func (t *Transport) serverRequest(req *http.Request) (*http.Request, *requestBody, error) {
	if req.URL == nil {
		return nil, nil, errors.New("http: nil Request.URL")
	}
	uri := req.URL.RequestURI()
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return nil, nil, err
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	r := &http.Request{Method: method, URL: u, RequestURI: uri, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: canonical(req.Header, "Host"), Host: host, RemoteAddr: "inproc", TLS: t.tls}
	if _, ok := r.Header["User-Agent"]; !ok {
		r.Header["User-Agent"] = []string{"Go-http-client/1.1"}
	}
	body, err := setBody(r, req)
	return r, body, err
}

// setBody gives r the body and length net/http's client would send.
func setBody(r, req *http.Request) (*requestBody, error) {
	hasBody := req.Body != nil && req.Body != http.NoBody
	switch {
	case req.ContentLength > 0 && !hasBody:
		return nil, fmt.Errorf("http: Request.ContentLength=%d with nil Body", req.ContentLength)
	case !hasBody:
		r.Body = http.NoBody
		if methodSendsLength(r.Method) {
			r.Header["Content-Length"] = []string{"0"}
		}
		return nil, nil
	}
	b := &requestBody{src: req.Body, left: req.ContentLength}
	r.Body, r.ContentLength = b, req.ContentLength
	if req.ContentLength > 0 {
		r.Header["Content-Length"] = []string{strconv.FormatInt(req.ContentLength, 10)}
	} else { // a body of unknown length goes chunked
		r.ContentLength, b.left, r.TransferEncoding = -1, -1, []string{"chunked"}
	}
	return b, nil
}

// methodSendsLength: net/http's client sends "Content-Length: 0" for
// these methods when there is no body.
func methodSendsLength(m string) bool {
	return m == http.MethodPost || m == http.MethodPut || m == http.MethodPatch
}

// canonical copies h as it is parsed off the wire: keys in canonical
// form, keys with no values gone, and drop (the request's Host, which
// goes to Request.Host) left out. The values share one allocation, as
// in http.Header.Clone.
func canonical(h http.Header, drop string) http.Header {
	n := 0
	for _, v := range h {
		n += len(v)
	}
	values := make([]string, 0, n)
	out := make(http.Header, len(h)+2)
	for k, v := range h {
		if len(v) == 0 {
			continue
		}
		if k = textproto.CanonicalMIMEHeaderKey(k); k == drop {
			continue
		}
		if prev, dup := out[k]; dup { // two spellings of one key
			out[k] = append(prev[:len(prev):len(prev)], v...)
			continue
		}
		values = append(values, v...)
		out[k] = values[len(values)-len(v) : len(values) : len(values)]
	}
	return out
}

// requestHeaderBytes is the size of the request line and header as
// net/http's client writes them.
func requestHeaderBytes(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(" HTTP/1.1\r\nHost: \r\n\r\n") + len(r.Host)
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + len(": \r\n")
		}
	}
	return n
}

// headerTooLarge is net/http's server's answer to an oversized header.
func headerTooLarge(req *http.Request) *http.Response {
	const text = "431 Request Header Fields Too Large"
	return &http.Response{Status: text, StatusCode: http.StatusRequestHeaderFieldsTooLarge,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Close: true, ContentLength: -1, Request: req,
		Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, // Connection: close is in Close
		Body:   &responseBody{ctx: req.Context(), b: []byte(text)}}
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// urlError wraps err as http.Client.Do does.
func urlError(req *http.Request, err error) error {
	op := req.Method
	if op == "" {
		op = http.MethodGet
	}
	op = op[:1] + strings.ToLower(op[1:])
	return &url.Error{Op: op, URL: req.URL.Redacted(), Err: err}
}
