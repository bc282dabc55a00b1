package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/devstack"
	"github.com/ordersflow/orderpipeline/emulators/servicebus/sbemu"
	"github.com/ordersflow/orderpipeline/internal/testutil"
)

// appDir is the staged app (host.json, function folders, handler) and
// funcHostBin the funchost binary of a fleet, built once by TestMain.
var appDir, funcHostBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "e2e-app-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	appDir = filepath.Join(dir, "app")
	funcHostBin = filepath.Join(dir, "funchost")
	if err := stage(appDir, funcHostBin); err != nil {
		fmt.Fprintln(os.Stderr, "stage app:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// stage builds the handler and copies host.json and the function folders,
// as make build does, and builds funchost as make run does.
func stage(dst, funcHost string) error {
	root, err := testutil.FindRepoRoot()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for bin, pkg := range map[string]string{filepath.Join(dst, "handler"): "./cmd/handler", funcHost: "./cmd/funchost"} {
		build := exec.Command("go", "build", "-o", bin, pkg)
		build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return err
		}
	}
	return exec.Command("bash", "-c", fmt.Sprintf("cp %q/host.json %q/ && cp -r %q/functions/* %q/",
		root, dst, root, dst)).Run()
}

// startStack runs a local stack in this process for one test.
func startStack(t *testing.T, o devstack.Options) *devstack.Stack {
	t.Helper()
	o.AppDir, o.Addr = appDir, "127.0.0.1:0"
	if o.Console == nil {
		o.Console = consoleOnFailure(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	st, err := devstack.Start(ctx, o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// consoleOnFailure keeps the last consoleTail bytes of a stack's console
// and logs them if the test fails, so that a failure says what the host
// and the handler saw. With E2E_CONSOLE=1 the console also goes to stderr
// as it is written.
func consoleOnFailure(t *testing.T) io.Writer {
	tail := &tailBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the stack's console, last %d bytes:\n%s", consoleTail, tail.String())
		}
	})
	if os.Getenv("E2E_CONSOLE") == "1" {
		return io.MultiWriter(tail, os.Stderr)
	}
	return tail
}

const consoleTail = 64 << 10

// tailBuffer is an io.Writer that keeps only the last consoleTail bytes.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > 2*consoleTail { // trimmed now and then, not on every write
		b.buf = append(b.buf[:0], b.buf[len(b.buf)-consoleTail:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf[max(0, len(b.buf)-consoleTail):])
}

type client struct {
	base string
	http *http.Client
	key  string // x-functions-key for the ops routes (authLevel: function)
}

// withKey is the client with key for the routes that need one.
func (c *client) withKey(key string) *client {
	k := *c
	k.key = key
	return &k
}

// ops sends a request to an ops route with the client's key.
func (c *client) ops(method, path string) (*http.Response, error) {
	req, err := http.NewRequest(method, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("x-functions-key", c.key)
	return c.http.Do(req)
}

func newClient(base string) *client {
	return &client{base: base, http: &http.Client{Timeout: 15 * time.Second}}
}

type orderBody struct {
	ID       string      `json:"id"`
	Status   string      `json:"status"`
	Total    int64       `json:"total"`
	Version  int         `json:"version"`
	Currency string      `json:"currency"`
	Events   []eventBody `json:"events"`
}

type eventBody struct {
	ID   string          `json:"id"`
	Seq  int             `json:"seq"`
	Type string          `json:"type"`
	At   time.Time       `json:"at"`
	Data json.RawMessage `json:"data"`
}

// event returns the order's event of type typ (zero if it has none).
func (o orderBody) event(typ string) eventBody {
	for _, e := range o.Events {
		if e.Type == typ {
			return e
		}
	}
	return eventBody{}
}

func (o orderBody) types() []string {
	out := make([]string, len(o.Events))
	for i, e := range o.Events {
		out[i] = e.Type
	}
	return out
}

// line is one line of a checkout.
type line struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

func checkoutBody(token, sku string, qty int) []byte {
	return checkoutLines(token, line{sku, qty})
}

func checkoutLines(token string, lines ...line) []byte {
	b, _ := json.Marshal(map[string]any{"customerId": "c-e2e", "currency": "USD", "lines": lines,
		"shipTo":  map[string]string{"country": "US", "region": "WA", "postalCode": "98101"},
		"payment": map[string]string{"token": token}})
	return b
}

// place posts a checkout and returns the status, body and response.
func (c *client) place(body []byte, idempotencyKey string) (*http.Response, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, c.base+"/api/orders", bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func (c *client) mustPlace(t *testing.T, token, sku string, qty int) string {
	t.Helper()
	return c.mustPlaceBody(t, checkoutBody(token, sku, qty))
}

func (c *client) mustPlaceBody(t *testing.T, body []byte) string {
	t.Helper()
	resp, b, err := c.place(body, "")
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, resp.StatusCode, string(b))
	var o orderBody
	require.NoError(t, json.Unmarshal(b, &o))
	return o.ID
}

func (c *client) order(id string) (orderBody, error) {
	var o orderBody
	resp, err := c.http.Get(c.base + "/api/orders/" + id)
	if err != nil {
		return o, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return o, fmt.Errorf("GET order %s: %s", id, resp.Status)
	}
	return o, json.NewDecoder(resp.Body).Decode(&o)
}

// waitTerminal polls an order until it is Fulfilled or Cancelled.
func (c *client) waitTerminal(t *testing.T, id string, within time.Duration) orderBody {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		o, err := c.order(id)
		if err == nil && (o.Status == "Fulfilled" || o.Status == "Cancelled") {
			return o
		}
		if time.Now().After(deadline) {
			require.FailNow(t, "order did not finish", "order %s: last status %q, err %v", id, o.Status, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startBus runs the Service Bus emulator with the project's entities for one
// test, which stops it.
func startBus(t *testing.T) *sbemu.Emulator {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	root := testutil.RepoRoot(t)
	bus, err := sbemu.Start(ctx, root, filepath.Join(root, "emulators", "servicebus", "config", "orderpipeline.json"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = bus.Stop() })
	return bus
}

func TestTailBufferKeepsTheLastBytes(t *testing.T) {
	var b tailBuffer
	for range 3 {
		_, _ = b.Write(bytes.Repeat([]byte("a"), consoleTail))
	}
	_, _ = b.Write([]byte("the end"))
	require.LessOrEqual(t, len(b.buf), 2*consoleTail)
	require.Len(t, b.String(), consoleTail)
	require.True(t, strings.HasSuffix(b.String(), "athe end"))
}
