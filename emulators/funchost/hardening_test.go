package funchost

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// noRedirects is a client that shows a redirect instead of following it.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// assertProblem checks an RFC 9457 body with the given status.
func assertProblem(t *testing.T, resp *http.Response, body string, status int) {
	t.Helper()
	assert.Equal(t, status, resp.StatusCode, body)
	assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	var p problem
	require.NoError(t, json.Unmarshal([]byte(body), &p), body)
	assert.Equal(t, status, p.Status)
	assert.Equal(t, http.StatusText(status), p.Title)
}

func send(t *testing.T, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func TestHostErrorsAreProblemsAndNeverRedirect(t *testing.T) {
	var calls atomic.Int32
	rl := newRelay(t, func(w http.ResponseWriter, r *http.Request) { calls.Add(1); w.WriteHeader(http.StatusTeapot) })
	h, _ := startHost(t, stageApp(t, forwardingHostJSON, httpFunctions, nil), rl, nil)

	tests := []struct {
		name, method, path string
		want               int
		allow              string
	}{
		{"unknown route", "GET", "/api/nothing", http.StatusNotFound, ""},
		{"no prefix", "GET", "/orders/1", http.StatusNotFound, ""},
		{"wrong method", "DELETE", "/api/orders/o-1", http.StatusMethodNotAllowed, "GET"},
		{"wrong method on POST route", "GET", "/api/orders", http.StatusMethodNotAllowed, "POST"},
		{"double slash", "GET", "/api//orders/1", http.StatusNotFound, ""},
		{"leading double slash", "GET", "//api/orders/1", http.StatusNotFound, ""},
		{"dot dot", "GET", "/api/orders/../orders/1", http.StatusNotFound, ""},
		{"dot dot as id", "GET", "/api/orders/..", http.StatusNotFound, ""},
		{"encoded dot dot", "GET", "/api/orders/%2e%2e", http.StatusNotFound, ""},
		{"mixed encoded dot dot", "GET", "/api/hooks/a/.%2E/b", http.StatusNotFound, ""},
		{"dot", "GET", "/api/orders/.", http.StatusNotFound, ""},
		{"encoded slashes to dot dot", "GET", "/api/hooks/a%2F..%2Fb", http.StatusNotFound, ""},
		{"encoded double slash", "GET", "/api/hooks/a%2F%2Fb", http.StatusNotFound, ""},
		{"admin wrong method", "POST", "/admin/host/status", http.StatusMethodNotAllowed, "GET"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, h.URL()+"/", nil)
			require.NoError(t, err)
			req.URL.Opaque = tc.path // sent exactly as written, never cleaned by the client
			resp, body := send(t, noRedirects, req)
			assertProblem(t, resp, body, tc.want)
			assert.Empty(t, resp.Header.Get("Location"))
			assert.Equal(t, tc.allow, resp.Header.Get("Allow"))
		})
	}
	assert.Zero(t, calls.Load(), "no hostile or unknown path reached the handler")
}

func TestDeclaredBodyOverLimitIs413BeforeAnyIsRead(t *testing.T) {
	var calls atomic.Int32
	rl := newRelay(t, func(w http.ResponseWriter, r *http.Request) { calls.Add(1) })
	for name, limit := range map[string]func(*Config, map[string]string){
		"config":      func(c *Config, _ map[string]string) { c.MaxRequestBodyBytes = 1000 },
		"app setting": func(_ *Config, s map[string]string) { s[settingBodyLimit] = "1000" },
	} {
		t.Run(name, func(t *testing.T) {
			h, _ := startHost(t, stageApp(t, forwardingHostJSON, httpFunctions, nil), rl, nil, func(c *Config) { limit(c, c.Settings) })
			resp, body := do(t, http.MethodPost, h.URL()+"/api/orders", strings.Repeat("x", 1001), nil)
			assertProblem(t, resp, body, http.StatusRequestEntityTooLarge)
			assert.Contains(t, body, "1000 bytes")
			resp, _ = do(t, http.MethodPost, h.URL()+"/api/orders", strings.Repeat("x", 1000), nil)
			assert.Equal(t, http.StatusOK, resp.StatusCode, "a body at the limit passes")
		})
	}
	assert.Equal(t, int32(2), calls.Load(), "only the bodies within the limit reached the handler")
}

func TestDefaultBodyLimitIsAzures(t *testing.T) {
	h, _ := startHost(t, stageApp(t, forwardingHostJSON, httpFunctions, nil), newRelay(t, nil), nil)
	front := h.srv.Handler.(*httpFront)
	assert.Equal(t, int64(100*1024*1024), front.limits.MaxBodyBytes)
}

func TestChunkedBodyOverLimitIs413WhileStreaming(t *testing.T) {
	got := make(chan int64, 1)
	rl := newRelay(t, func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		got <- n
	})
	for _, forwarding := range []string{forwardingHostJSON, envelopeHostJSON} {
		h, _ := startHost(t, stageApp(t, forwarding, httpFunctions, nil), rl, nil, func(c *Config) { c.MaxRequestBodyBytes = 64 << 10 })
		req, err := http.NewRequest(http.MethodPost, h.URL()+"/api/orders", io.MultiReader(bytes.NewReader(make([]byte, 1<<20))))
		require.NoError(t, err)
		req.ContentLength = -1 // sent chunked
		resp, body := send(t, http.DefaultClient, req)
		assertProblem(t, resp, body, http.StatusRequestEntityTooLarge)
		if forwarding == forwardingHostJSON {
			select {
			case n := <-got:
				assert.Less(t, n, int64(1<<20), "the handler never got the whole body")
			case <-time.After(20 * time.Second):
				t.Fatal("the handler's read of the cut body never ended")
			}
		}
	}
}

// TestForwardedBodyIsStreamed proves the host does not read the whole body
// before calling the handler: the client sends its second half only after
// the handler has received the first.
func TestForwardedBodyIsStreamed(t *testing.T) {
	firstHalf := make(chan struct{})
	sum := make(chan [32]byte, 1)
	rl := newRelay(t, func(w http.ResponseWriter, r *http.Request) {
		hash := sha256.New()
		_, err := io.CopyN(hash, r.Body, 1<<20)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		close(firstHalf)
		io.Copy(hash, r.Body)
		var s [32]byte
		copy(s[:], hash.Sum(nil))
		sum <- s
	})
	h, _ := startHost(t, stageApp(t, forwardingHostJSON, httpFunctions, nil), rl, nil)
	payload := bytes.Repeat([]byte("0123456789abcdef"), 1<<17) // 2 MiB
	pr, pw := io.Pipe()
	go func() {
		pw.Write(payload[:1<<20])
		select {
		case <-firstHalf:
			pw.Write(payload[1<<20:])
			pw.Close()
		case <-time.After(30 * time.Second):
			pw.CloseWithError(errors.New("the handler saw nothing while the client was still sending: the host buffers bodies"))
		}
	}()
	req, err := http.NewRequest(http.MethodPost, h.URL()+"/api/orders", pr)
	require.NoError(t, err)
	resp, _ := send(t, http.DefaultClient, req)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, sha256.Sum256(payload), <-sum, "the handler got the body byte for byte")
}

// TestHandlerAnsweringEarlyIsRelayed is the 10 MB checkout: the handler
// reads part of the body, answers 413 and closes while the host is still
// sending. The caller gets the handler's answer, every time.
func TestHandlerAnsweringEarlyIsRelayed(t *testing.T) {
	h, _ := startHost(t, stageApp(t, forwardingHostJSON, httpFunctions, nil), newRelay(t, nil), nil)
	body := bytes.Repeat([]byte("x"), 10<<20)
	for i := range 5 {
		resp, got := do(t, http.MethodPost, h.URL()+"/api/hooks/__early", string(body), map[string]string{"Content-Type": "application/json"})
		require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "attempt %d: %s", i, got)
		assert.JSONEq(t, `{"title":"Request Entity Too Large","status":413}`, got)
	}
}

// rawRequest opens a TCP connection and writes text as it is.
func rawRequest(t *testing.T, h *Host, text string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(h.URL(), "http://"))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	_, err = io.WriteString(conn, text)
	require.NoError(t, err)
	return conn
}

// waitClosed reads until the host closes the connection; it fails if the
// host still holds it after a generous deadline.
func waitClosed(t *testing.T, conn net.Conn) string {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(20*time.Second)))
	b, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the host still holds the connection (read so far: %q)", b)
	}
	return string(b)
}

func TestTimeoutsFreeStalledConnections(t *testing.T) {
	rl := newRelay(t, func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) })
	h, _ := startHost(t, stageApp(t, forwardingHostJSON, httpFunctions, nil), rl, nil, func(c *Config) {
		c.ReadHeaderTimeout, c.ReadTimeout, c.IdleTimeout = 200*time.Millisecond, 500*time.Millisecond, 200*time.Millisecond
	})
	t.Run("headers never finish", func(t *testing.T) {
		waitClosed(t, rawRequest(t, h, "POST /api/orders HTTP/1.1\r\nHost: x\r\n"))
	})
	t.Run("headers then no body", func(t *testing.T) {
		got := waitClosed(t, rawRequest(t, h, "POST /api/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"))
		assert.Contains(t, got, "408 Request Timeout")
		assert.Contains(t, got, "application/problem+json")
	})
	t.Run("idle keep-alive", func(t *testing.T) {
		conn := rawRequest(t, h, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		resp.Body.Close()
		waitClosed(t, conn)
	})
}

func TestConnectionLimit(t *testing.T) {
	h, _ := startHost(t, stageApp(t, forwardingHostJSON, httpFunctions, nil), newRelay(t, nil), nil, func(c *Config) { c.MaxConnections = 2 })
	held := []net.Conn{rawRequest(t, h, "GET / HTTP/1.1\r\nHost: x\r\n"), rawRequest(t, h, "GET / HTTP/1.1\r\nHost: x\r\n")}
	third := rawRequest(t, h, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	answered := make(chan error, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(third), nil)
		if err == nil {
			resp.Body.Close()
		}
		answered <- err
	}()
	select {
	case err := <-answered:
		t.Fatalf("a third connection was served while two were held (err %v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	held[0].Close()
	select {
	case err := <-answered:
		assert.NoError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("the third connection was not served after one was freed")
	}
}

// TestCloseEndsStalledUploads is Ctrl-C with uploads that stopped mid-body:
// Close returns promptly and cleanly instead of waiting for them.
func TestCloseEndsStalledUploads(t *testing.T) {
	arrived := make(chan struct{}, 3)
	rl := newRelay(t, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		io.Copy(io.Discard, r.Body)
	})
	root := stageApp(t, forwardingHostJSON, httpFunctions, nil)
	h, _ := startHost(t, root, rl, nil)
	for range 3 {
		rawRequest(t, h, "POST /api/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n0123456789")
	}
	for range 3 {
		<-arrived
	}
	closed := make(chan error, 1)
	go func() { closed <- h.Close() }()
	select {
	case err := <-closed:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Close is still waiting for stalled uploads")
	}
}

func TestRelativeScriptRoot(t *testing.T) {
	root := stageApp(t, forwardingHostJSON, httpFunctions, nil)
	t.Chdir(root)
	h, _ := startHost(t, ".", newRelay(t, nil), nil)
	resp, body := do(t, http.MethodGet, h.URL()+"/api/hooks/__pid", "", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Regexp(t, `^\d+$`, body)
}
