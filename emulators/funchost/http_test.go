package funchost

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var httpFunctions = map[string]string{
	"Checkout": `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"anonymous","methods":["post"],"route":"orders"},{"type":"http","direction":"out","name":"res"}]}`,
	"GetOrder": `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"anonymous","methods":["get"],"route":"orders/{id}"},{"type":"http","direction":"out","name":"res"}]}`,
	"GetItem":  `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"anonymous","methods":["get"],"route":"items/{n:int:min(1)}/{rest?}"},{"type":"http","direction":"out","name":"res"}]}`,
	"Hooks":    `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"anonymous","route":"hooks/{*path}"},{"type":"http","direction":"out","name":"res"}]}`,
}

type seen struct {
	Method, Path, Query, Body, InvocationID, ContentType string
}

func recordingRelay(t *testing.T, got chan<- seen) *relay {
	return newRelay(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.URL.Path, r.URL.RawQuery, string(b), r.Header.Get(headerInvocationID), r.Header.Get("Content-Type")}
		w.Header().Set("X-Reply", "yes")
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, `{"title":"raw"}`)
	})
}

func TestForwardsRawRequestAndResponse(t *testing.T) {
	got := make(chan seen, 1)
	rl := recordingRelay(t, got)
	h, logs := startHost(t, stageApp(t, forwardingHostJSON, httpFunctions, nil), rl, nil)

	resp, body := do(t, http.MethodPost, h.URL()+"/api/orders?x=1&y=2", `{"lines":[]}`, map[string]string{"Content-Type": "application/json", "Idempotency-Key": "k1"})

	assert.Equal(t, http.StatusTeapot, resp.StatusCode)
	assert.Equal(t, `{"title":"raw"}`, body)
	assert.Equal(t, "yes", resp.Header.Get("X-Reply"))
	assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	s := <-got
	assert.Equal(t, seen{Method: "POST", Path: "/api/orders", Query: "x=1&y=2", Body: `{"lines":[]}`, InvocationID: s.InvocationID, ContentType: "application/json"}, s)
	assert.NotEmpty(t, s.InvocationID)
	executed := "Executed 'Functions.Checkout' (Succeeded, Status=I'm a teapot, Id=" + s.InvocationID
	// The host logs the invocation once the exchange is finished, which may
	// be just after the caller has read the whole response.
	assert.Eventually(t, func() bool { return strings.Contains(logs.String(), executed) }, 10*time.Second, 10*time.Millisecond, logs.String())
	assert.Contains(t, logs.String(), "Checkout: [POST] "+h.URL()+"/api/orders")
	assert.Contains(t, logs.String(), "GetOrder: [GET] "+h.URL()+"/api/orders/{id}")
	assert.Contains(t, logs.String(), "handler: relay handler listening on port", "handler output is shown")
}

func TestRoutesByTemplateAndMethod(t *testing.T) {
	got := make(chan seen, 1)
	rl := recordingRelay(t, got)
	h, _ := startHost(t, stageApp(t, forwardingHostJSON, httpFunctions, nil), rl, nil)

	tests := []struct {
		name, method, path string
		want               int
		wantPath           string
	}{
		{"parameter", "GET", "/api/orders/o-123", http.StatusTeapot, "/api/orders/o-123"},
		{"case-insensitive prefix and literal", "GET", "/API/Orders/o-1", http.StatusTeapot, "/API/Orders/o-1"},
		{"wrong method", "DELETE", "/api/orders/o-1", http.StatusMethodNotAllowed, ""},
		{"no route", "GET", "/api/nothing", http.StatusNotFound, ""},
		{"no prefix", "POST", "/orders", http.StatusNotFound, ""},
		{"int constraint", "GET", "/api/items/7", http.StatusTeapot, "/api/items/7"},
		{"optional segment", "GET", "/api/items/7/extra", http.StatusTeapot, "/api/items/7/extra"},
		{"constraint rejects", "GET", "/api/items/x", http.StatusNotFound, ""},
		{"min rejects", "GET", "/api/items/0", http.StatusNotFound, ""},
		{"catch-all any method", "PATCH", "/api/hooks/a/b/c", http.StatusTeapot, "/api/hooks/a/b/c"},
		{"too many segments", "GET", "/api/orders/1/2", http.StatusNotFound, ""},
		{"escaped slash stays in one segment", "GET", "/api/orders/a%2Fb", http.StatusTeapot, "/api/orders/a/b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := do(t, tc.method, h.URL()+tc.path, "", nil)
			assert.Equal(t, tc.want, resp.StatusCode)
			if tc.wantPath != "" {
				assert.Equal(t, tc.wantPath, (<-got).Path)
			}
		})
	}
}

func TestEnvelopeWhenForwardingIsOff(t *testing.T) {
	var req invocationRequest
	var path, id string
	rl := newRelay(t, func(w http.ResponseWriter, r *http.Request) {
		path, id = r.URL.Path, r.Header.Get(headerInvocationID)
		_ = json.NewDecoder(r.Body).Decode(&req)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"Outputs":{"res":{"statusCode":201,"body":{"ok":true},"headers":{"Location":"/api/orders/o-9"}}},"Logs":["made o-9"],"ReturnValue":null}`)
	})
	h, logs := startHost(t, stageApp(t, envelopeHostJSON, httpFunctions, nil), rl, nil)

	resp, body := do(t, http.MethodGet, h.URL()+"/api/orders/o-9?v=1", "", map[string]string{"X-Test": "a"})

	require.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.JSONEq(t, `{"ok":true}`, body)
	assert.Equal(t, "/api/orders/o-9", resp.Header.Get("Location"))
	assert.Equal(t, "/GetOrder", path)
	assert.NotEmpty(t, id)
	var data httpRequestData
	require.NoError(t, json.Unmarshal(req.Data["req"], &data))
	assert.Equal(t, "GET", data.Method)
	assert.Equal(t, map[string]string{"id": "o-9"}, data.Params)
	assert.Equal(t, map[string]string{"v": "1"}, data.Query)
	assert.Equal(t, []string{"a"}, data.Headers["X-Test"])
	assert.True(t, strings.HasSuffix(data.URL, "/api/orders/o-9?v=1"), data.URL)
	assert.JSONEq(t, `"o-9"`, string(req.Metadata["id"]))
	assert.Contains(t, string(req.Metadata["sys"]), `"MethodName":"GetOrder"`)
	assert.Contains(t, logs.String(), "GetOrder: made o-9")
}

func TestEnvelopeFailureIs500(t *testing.T) {
	tests := map[string]http.HandlerFunc{
		"non-2xx": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, `{"Outputs":{"res":{"statusCode":200}}}`)
		},
		"not json": func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"Outputs":{"res":{"statusCode":200}}}`)
		},
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			h, _ := startHost(t, stageApp(t, envelopeHostJSON, httpFunctions, nil), newRelay(t, fn), nil)
			resp, _ := do(t, http.MethodPost, h.URL()+"/api/orders", "{}", nil)
			assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
		})
	}
}

func TestHandlerEnvironment(t *testing.T) {
	root := stageApp(t, forwardingHostJSON, httpFunctions, map[string]string{"FROM_LOCAL": "local", "OVERRIDDEN": "local"})
	h, _ := startHost(t, root, newRelay(t, nil), map[string]string{"OVERRIDDEN": "config"})
	env := func(name string) string {
		_, body := do(t, http.MethodGet, h.URL()+"/api/hooks/__env?name="+name, "", nil)
		return body
	}
	assert.Equal(t, strconv.Itoa(h.proc.port), env("FUNCTIONS_CUSTOMHANDLER_PORT"))
	assert.Equal(t, "local", env("FROM_LOCAL"))
	assert.Equal(t, "config", env("OVERRIDDEN"))
}

func TestRestartsHandlerThatExitsAndStopsItOnClose(t *testing.T) {
	h, logs := startHost(t, stageApp(t, forwardingHostJSON, httpFunctions, nil), newRelay(t, nil), nil)
	pid := func() int {
		_, body := do(t, http.MethodGet, h.URL()+"/api/hooks/__pid", "", nil)
		n, _ := strconv.Atoi(body) // 0 while the handler restarts
		return n
	}
	first := pid()
	require.NotZero(t, first)
	resp, _ := do(t, http.MethodGet, h.URL()+"/api/hooks/__exit", "", nil)
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)

	var second int
	require.Eventually(t, func() bool { second = pid(); return second != 0 && second != first }, 30*time.Second, 50*time.Millisecond)
	assert.Contains(t, logs.String(), "Custom handler exited (exit status 3); restarting")

	require.NoError(t, h.Close())
	proc, err := os.FindProcess(second)
	require.NoError(t, err)
	assert.Error(t, proc.Signal(syscall.Signal(0)), "handler process %d still running after Close", second)
}

func TestBuiltInRoutes(t *testing.T) {
	h, _ := startHost(t, stageApp(t, forwardingHostJSON, httpFunctions, nil), newRelay(t, nil), nil)
	resp, _ := do(t, http.MethodGet, h.URL()+"/", "", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, body := do(t, http.MethodGet, h.URL()+"/admin/host/status", "", nil)
	assertProblem(t, resp, body, http.StatusUnauthorized)
	resp, body = do(t, http.MethodGet, h.URL()+"/admin/host/status", "", map[string]string{"x-functions-key": h.MasterKey()})
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, `"state":"Running"`)
	assert.Contains(t, body, `"primary":true`)
}

func TestEnvelopeReturnValue(t *testing.T) {
	fns := map[string]string{"Hello": `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"anonymous","methods":["get"]},{"type":"http","direction":"out","name":"$return"}]}`}
	rl := newRelay(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"Outputs":{},"Logs":[],"ReturnValue":{"statusCode":"200","body":"hello","headers":{}}}`)
	})
	h, _ := startHost(t, stageApp(t, envelopeHostJSON, fns, nil), rl, nil)

	resp, body := do(t, http.MethodGet, h.URL()+"/api/Hello", "", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "hello", body)
	assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
}
