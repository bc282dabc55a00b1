package inproc_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/inproc"
)

// seen is what a handler was handed, minus what the transport documents
// it does not carry over (Accept-Encoding, RemoteAddr).
type seen struct {
	Method, RequestURI, URL, Host string
	Header                        http.Header
	ContentLength                 int64
	TransferEncoding              []string
	Body                          string
	BodyErr                       string
}

// answer is what a caller got.
type answer struct {
	Status           string
	StatusCode       int
	Proto            string
	Header           http.Header
	ContentLength    int64
	TransferEncoding []string
	Body             string
	BodyErr          string
}

// recording wraps h so the test sees each request the handler got.
func recording(h http.HandlerFunc, got *seen) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		*got = seen{Method: r.Method, RequestURI: r.RequestURI, URL: r.URL.String(), Host: r.Host,
			Header: r.Header.Clone(), ContentLength: r.ContentLength, TransferEncoding: r.TransferEncoding,
			Body: string(b), BodyErr: errText(err)}
		got.Header.Del("Accept-Encoding")
		h(w, r)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func roundTrip(t *testing.T, rt http.RoundTripper, newReq func() *http.Request) answer {
	t.Helper()
	resp, err := rt.RoundTrip(newReq())
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	resp.Header.Del("Date")
	return answer{Status: resp.Status, StatusCode: resp.StatusCode, Proto: resp.Proto, Header: resp.Header,
		ContentLength: resp.ContentLength, TransferEncoding: resp.TransferEncoding, Body: string(b), BodyErr: errText(err)}
}

// pooled is a buffer a handler reuses after Write, as the Cosmos DB
// emulator reuses its change feed page buffers.
var pooled = make([]byte, 3000)

func body(s string) func() io.Reader { return func() io.Reader { return strings.NewReader(s) } }

// unsized hides the reader's length, so the request goes chunked.
func unsized(s string) func() io.Reader {
	return func() io.Reader { return io.MultiReader(strings.NewReader(s)) }
}

// TestTransportMatchesLoopbackHTTP sends the same request to the same
// handler over TCP (net/http's client and server) and through the
// transport: the handler sees the same request, the caller the same
// response.
func TestTransportMatchesLoopbackHTTP(t *testing.T) {
	big := strings.Repeat("x", 5000)
	cases := []struct {
		name    string
		method  string
		path    string
		header  http.Header
		body    func() io.Reader
		handler http.HandlerFunc
	}{
		{name: "small JSON", method: "GET", path: "/dbs/d/colls/c/docs/a?x=1&y=%2B",
			header: http.Header{"x-ms-date": {"now"}, "X-Two": {"a", "b"}},
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header()["Content-Type"] = []string{"application/json"}
				w.Header()["etag"] = []string{`"1"`} // not canonical: the client's parser makes it so
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write([]byte(`{"id":"a"}`))
			}},
		{name: "large body in one write from a reused buffer", method: "GET", path: "/feed",
			handler: func(w http.ResponseWriter, r *http.Request) {
				copy(pooled, strings.Repeat("d", len(pooled)))
				_, _ = w.Write(pooled)
				copy(pooled, strings.Repeat("X", len(pooled))) // the next page
			}},
		{name: "many small writes", method: "GET", path: "/w",
			handler: func(w http.ResponseWriter, r *http.Request) {
				for range 300 {
					_, _ = io.WriteString(w, "0123456789")
				}
			}},
		{name: "not modified drops the representation headers", method: "GET", path: "/feed",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Etag", `"5"`)
				w.WriteHeader(http.StatusNotModified)
				_, err := w.Write([]byte("nothing"))
				assert.ErrorIs(t, err, http.ErrBodyNotAllowed)
			}},
		{name: "no content", method: "DELETE", path: "/d",
			handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }},
		{name: "empty 200", method: "GET", path: "/e", handler: func(w http.ResponseWriter, r *http.Request) {}},
		{name: "sniffed content type, odd status", method: "GET", path: "/s",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(299)
				_, _ = w.Write([]byte("<html><body>hi</body></html>"))
			}},
		{name: "declared length", method: "GET", path: "/l",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "5000")
				_, _ = io.WriteString(w, big)
				_, err := io.WriteString(w, "more")
				assert.ErrorIs(t, err, http.ErrContentLength)
			}},
		{name: "header changed after WriteHeader is not sent", method: "GET", path: "/h",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Before", "1")
				w.WriteHeader(http.StatusCreated)
				w.Header().Set("X-After", "1")
			}},
		{name: "POST with a sized body", method: "POST", path: "/dbs/d/colls/c/docs",
			header: http.Header{"Content-Type": {"application/json"}}, body: body(`{"id":"a"}`),
			handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) }},
		{name: "PUT with an unsized body", method: "PUT", path: "/p", body: unsized(big),
			handler: func(w http.ResponseWriter, r *http.Request) {}},
		{name: "POST without a body", method: "POST", path: "/p",
			handler: func(w http.ResponseWriter, r *http.Request) {}},
		{name: "HEAD", method: "HEAD", path: "/p",
			handler: func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "hello") }},
		{name: "header over the limit", method: "GET", path: "/big",
			header:  http.Header{"X-Big": {strings.Repeat("h", http.DefaultMaxHeaderBytes+4096)}},
			handler: func(w http.ResponseWriter, r *http.Request) { t.Error("the handler ran") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var overTCP, inProc seen
			srv := httptest.NewServer(recording(tc.handler, &overTCP))
			defer srv.Close()
			newReq := func() *http.Request {
				var b io.Reader
				if tc.body != nil {
					b = tc.body()
				}
				req, err := http.NewRequest(tc.method, srv.URL+tc.path, b)
				require.NoError(t, err)
				for k, v := range tc.header {
					req.Header[k] = v
				}
				return req
			}
			want := roundTrip(t, srv.Client().Transport, newReq)
			got := roundTrip(t, inproc.New(recording(tc.handler, &inProc), inproc.Options{}), newReq)
			assert.Equal(t, want, got, "response")
			assert.Equal(t, overTCP, inProc, "request")
		})
	}
}

// TestCancelledRoundTripReturnsTheContextError cancels a request whose
// handler does not look at its context: the caller gets the context's
// error at once, the handler's context is cancelled, the body is no
// longer readable by it, and its goroutine ends once it returns.
func TestCancelledRoundTripReturnsTheContextError(t *testing.T) {
	entered, release, exited := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	var handlerCtx context.Context
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlerCtx = r.Context()
		close(entered)
		<-release
		_, err := r.Body.Read(make([]byte, 1))
		exited <- err
	})
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "POST", "http://cosmos.local/x", strings.NewReader("body"))
	require.NoError(t, err)
	result := make(chan error, 1)
	go func() {
		_, err := inproc.New(h, inproc.Options{}).RoundTrip(req)
		result <- err
	}()
	<-entered
	cancel()
	err = <-result // the handler is still blocked on release
	require.ErrorIs(t, err, context.Canceled)
	var ue interface{ Timeout() bool }
	require.ErrorAs(t, err, &ue)
	<-handlerCtx.Done()
	close(release)
	assert.ErrorIs(t, <-exited, http.ErrBodyReadAfterClose)
}

// TestCancelEndsAReadBlockedOnTheCallersBody: a handler waiting for
// request body bytes that never come is let go when the caller cancels.
func TestCancelEndsAReadBlockedOnTheCallersBody(t *testing.T) {
	entered, exited := make(chan struct{}), make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		_, err := io.ReadAll(r.Body)
		exited <- err
	})
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "POST", "http://cosmos.local/x", pr)
	require.NoError(t, err)
	result := make(chan error, 1)
	go func() {
		_, err := inproc.New(h, inproc.Options{}).RoundTrip(req)
		result <- err
	}()
	<-entered
	cancel()
	assert.ErrorIs(t, <-result, context.Canceled)
	assert.Error(t, <-exited)
}

// TestRoundTripHonoursDeadlines: an expired deadline fails before the
// handler runs; one that passes while it runs ends its context.
func TestRoundTripHonoursDeadlines(t *testing.T) {
	ran := false
	tr := inproc.New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran = true
		<-r.Context().Done()
	}), inproc.Options{})
	expired, cancel := context.WithTimeout(context.Background(), -1)
	defer cancel()
	req, _ := http.NewRequestWithContext(expired, "GET", "http://cosmos.local/", nil)
	_, err := tr.RoundTrip(req)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.False(t, ran)

	soon, cancel2 := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel2()
	req, _ = http.NewRequestWithContext(soon, "GET", "http://cosmos.local/", nil)
	_, err = tr.RoundTrip(req)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

// TestResponseBodyFailsOnceTheContextEnds, as net/http's does.
func TestResponseBodyFailsOnceTheContextEnds(t *testing.T) {
	tr := inproc.New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(bytes.Repeat([]byte("a"), 100))
	}), inproc.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://cosmos.local/", nil)
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	cancel()
	_, err = io.ReadAll(resp.Body)
	assert.ErrorIs(t, err, context.Canceled)
}

// TestPanickingHandlerFailsTheRoundTrip instead of the process.
func TestPanickingHandlerFailsTheRoundTrip(t *testing.T) {
	tr := inproc.New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") }), inproc.Options{})
	req, _ := http.NewRequest("GET", "http://cosmos.local/", nil)
	_, err := tr.RoundTrip(req)
	assert.ErrorContains(t, err, "boom")
}

// TestTLSOption: the handler sees an https request.
func TestTLSOption(t *testing.T) {
	var tlsSeen bool
	tr := inproc.New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tlsSeen = r.TLS != nil }),
		inproc.Options{TLS: true})
	req, _ := http.NewRequest("GET", "https://cosmos.local/", nil)
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.True(t, tlsSeen)
}
