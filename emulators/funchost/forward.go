package funchost

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// forwardRequest streams the raw request to the handler at the same path
// and relays the handler's raw response. A body larger than smallBody is
// never held in memory: the response is read while the body is still
// being sent, so a handler that answers early (a 413 of its own) and
// closes is relayed as it answered. It returns 0 when the invocation
// failed.
func (s *httpFront) forwardRequest(w http.ResponseWriter, r *http.Request, id string) int {
	ctx, cancel := context.WithTimeout(r.Context(), s.h.hc.FunctionTimeout)
	defer cancel()
	_ = http.NewResponseController(w).EnableFullDuplex() // the handler may read while it answers
	body := &clientBody{r: r.Body}
	upload, err := body.upload(r.ContentLength)
	if err != nil {
		return s.forwardFailed(w, clientBodyError(err))
	}
	out, err := outgoingRequest(ctx, s.h.proc.baseURL(), r, upload, id)
	if err != nil {
		writeProblem(w, http.StatusBadRequest, "the request cannot be forwarded")
		return 0
	}
	ex, err := s.h.proc.dialHandler(ctx, out)
	if err != nil {
		s.h.con.printf("Functions forwarding to the custom handler failed: %v", err)
		writeProblem(w, http.StatusInternalServerError, "the function's handler could not be reached")
		return 0
	}
	defer ex.finish(w, body)
	resp, err := ex.response(ctx, r.Context(), body)
	if err != nil {
		return s.forwardFailed(w, err)
	}
	defer resp.Body.Close()
	copyHeaders(w.Header(), resp.Header)
	w.WriteHeader(resp.StatusCode)
	_, err = io.Copy(w, resp.Body) // fails when the caller or handler went away mid-body
	ex.keep = err == nil && resp.StatusCode >= 200 && !resp.Close
	return resp.StatusCode
}

func (s *httpFront) forwardFailed(w http.ResponseWriter, err error) int {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeTooLarge(w, tooLarge.Limit)
	case errors.Is(err, errClientBody):
		writeProblem(w, http.StatusRequestTimeout, "the request body did not arrive in time")
	default:
		s.h.con.printf("Functions forwarding to the custom handler failed: %v", err)
		writeProblem(w, http.StatusInternalServerError, "the function's handler did not answer")
	}
	return 0
}

// outgoingRequest is the request the handler receives: same method, path,
// query, headers (minus hop-by-hop ones) and a streamed body.
func outgoingRequest(ctx context.Context, base string, r *http.Request, body io.Reader, id string) (*http.Request, error) {
	target := base + r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	out, err := http.NewRequestWithContext(ctx, r.Method, target, io.NopCloser(body))
	if err != nil {
		return nil, err
	}
	copyHeaders(out.Header, r.Header)
	out.Header.Del("Expect") // the host already answered 100-continue to the caller
	addHostHeaders(out.Header, id)
	out.Host = r.Host
	out.ContentLength = r.ContentLength
	if r.ContentLength == 0 {
		out.Body = http.NoBody
	}
	return out, nil
}

// smallBody is the largest request body the host reads whole before it
// forwards the request, as a checkout's is. net/http writes a request's
// headers and its body apart unless the body is one it knows to be in
// memory (isKnownInMemoryReader in its transfer.go), so a streamed body
// cost the host a second write and the handler a second read.
const smallBody = 64 << 10

// errClientBody marks a failure to read the caller's body (stalled past
// the read timeout, or gone).
var errClientBody = errors.New("read request body")

// clientBody remembers why reading the caller's body failed, to tell it
// apart from the handler no longer reading.
type clientBody struct {
	r    io.Reader
	mu   sync.Mutex
	err  error
	done bool // read to the end, or failed
}

func (b *clientBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil {
		b.mu.Lock()
		b.done = true
		if err != io.EOF {
			b.err = err
		}
		b.mu.Unlock()
	}
	return n, err
}

// upload is the body to send the handler: read whole into memory when
// the caller declared at most smallBody, else streamed as it arrives.
func (b *clientBody) upload(declared int64) (io.Reader, error) {
	if declared <= 0 || declared > smallBody {
		return b, nil
	}
	whole := make([]byte, declared)
	if _, err := io.ReadFull(b, whole); err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.done = true
	b.mu.Unlock()
	return bytes.NewReader(whole), nil
}

// open reports whether the caller may still be sending the body.
func (b *clientBody) open(declared int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return declared != 0 && !b.done
}

func (b *clientBody) failure() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// exchange is one request/response on a connection to the handler of its
// own: a kept-alive one or a new one.
type exchange struct {
	conn     *handlerConn
	pool     *handlerConns
	req      *http.Request
	upErr    error         // the result of writing the request, once uploaded is closed
	uploaded chan struct{} // closed when the request is written or failed
	answered chan responseOrError
	stop     func() bool
	keep     bool // the response was relayed whole and the handler keeps the connection open
}

type responseOrError struct {
	resp *http.Response
	err  error
}

// dialHandler connects to the handler (retrying while it restarts) and
// starts writing the request and reading the response concurrently.
func (p *handlerProc) dialHandler(ctx context.Context, req *http.Request) (*exchange, error) {
	conn, err := p.connect(ctx)
	if err != nil {
		return nil, err
	}
	ex := &exchange{conn: conn, pool: &p.conns, req: req, uploaded: make(chan struct{}), answered: make(chan responseOrError, 1)}
	ex.stop = context.AfterFunc(ctx, func() { conn.Close() })
	go func() {
		ex.upErr = req.Write(conn.Conn)
		close(ex.uploaded)
	}()
	go func() {
		resp, err := http.ReadResponse(conn.br, req)
		ex.answered <- responseOrError{resp, err}
	}()
	return ex, nil
}

// connect takes an idle connection to the handler, or dials a new one.
func (p *handlerProc) connect(ctx context.Context) (*handlerConn, error) {
	if err := p.waitReady(ctx); err != nil {
		return nil, err
	}
	if c := p.conns.get(); c != nil {
		return c, nil
	}
	conn, err := p.dial(ctx)
	if err != nil {
		return nil, err
	}
	return &handlerConn{Conn: conn, br: bufio.NewReader(conn)}, nil
}

// dial connects to the handler, retrying a refused connection as the real
// host's proxy does (the handler may have just exited and be restarting).
func (p *handlerProc) dial(ctx context.Context) (net.Conn, error) {
	addr := strings.TrimPrefix(p.baseURL(), "http://")
	var d net.Dialer
	for attempt := 1; ; attempt++ {
		if err := p.waitReady(ctx); err != nil {
			return nil, err
		}
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err == nil || attempt == dialAttempts {
			return conn, err
		}
		if !sleep(time.Duration(attempt)*100*time.Millisecond, ctx) {
			return nil, err
		}
	}
}

// response waits for the handler's response. A failed upload ends the wait
// only when the caller's side failed (too large, stalled, gone); when the
// handler stopped reading, its response is on the way. caller is the
// request's own context, which the server cancels when reading from the
// caller fails.
func (ex *exchange) response(ctx, caller context.Context, body *clientBody) (*http.Response, error) {
	uploaded := ex.uploaded
	for {
		select {
		case <-uploaded:
			uploaded = nil
			if ex.upErr == nil {
				continue
			}
			if cerr := body.failure(); cerr != nil {
				select {
				case a := <-ex.answered: // the handler answered before the caller failed
					return a.resp, a.err
				default:
					return nil, clientBodyError(cerr)
				}
			}
		case a := <-ex.answered:
			if a.err != nil && caller.Err() != nil {
				return nil, callerError(body)
			}
			return a.resp, a.err
		case <-ctx.Done():
			if caller.Err() != nil {
				return nil, callerError(body)
			}
			return nil, fmt.Errorf("wait for the handler's response: %w", ctx.Err())
		}
	}
}

// callerError is why the caller's side failed, as far as is known yet.
func callerError(body *clientBody) error {
	if cerr := body.failure(); cerr != nil {
		return clientBodyError(cerr)
	}
	return fmt.Errorf("%w: the caller's connection failed", errClientBody)
}

func clientBodyError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return err
	}
	return fmt.Errorf("%w: %w", errClientBody, err)
}

// finish keeps the connection for the next request when the exchange
// completed cleanly. Otherwise it closes the connection and waits for the
// upload to stop: a caller still sending (or stalled) is cut off, so no
// read of the request body outlives ServeHTTP.
func (ex *exchange) finish(w http.ResponseWriter, body *clientBody) {
	if ex.stop() && ex.keep && ex.uploadedWhole(w) {
		ex.pool.put(ex.conn)
		return
	}
	ex.conn.Close()
	if body.open(ex.req.ContentLength) {
		_ = http.NewResponseController(w).SetReadDeadline(time.Now())
	}
	<-ex.uploaded
}

// uploadedWhole reports whether the whole request has been written. The
// response may arrive before the upload returns, so it waits a little (the
// response sent on first), as net/http's transport waits before it reuses
// a connection.
func (ex *exchange) uploadedWhole(w http.ResponseWriter) bool {
	select {
	case <-ex.uploaded:
		return ex.upErr == nil
	default:
	}
	_ = http.NewResponseController(w).Flush()
	t := time.NewTimer(maxUploadWaitBeforeReuse)
	defer t.Stop()
	select {
	case <-ex.uploaded:
		return ex.upErr == nil
	case <-t.C:
		return false
	}
}

const maxUploadWaitBeforeReuse = 50 * time.Millisecond

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
