package funchost

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/azurite"
	"github.com/ordersflow/orderpipeline/emulators/servicebus/sbemu"
)

// handlerBin is the relay handler built once for every test.
var handlerBin string

// storageConn is AzureWebJobsStorage for every test host: one in-memory
// Azurite for the package (each test's script root gives its own host id).
var storageConn string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "funchost-handler")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	handlerBin = filepath.Join(dir, "handler")
	out, err := exec.Command("go", "build", "-o", handlerBin, "./testdata/relayhandler").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build relay handler: %v\n%s", err, out)
		return 1
	}
	root, err := sbemu.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	az, err := azurite.Start(ctx, azurite.Options{RepoRoot: root})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer az.Stop()
	storageConn = az.ConnectionString()
	return m.Run()
}

const forwardingHostJSON = `{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"handler"},"enableForwardingHttpRequest":true}}`
const envelopeHostJSON = `{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"handler"},"enableForwardingHttpRequest":false}}`

// stageApp writes an app directory the way `make` stages one.
func stageApp(t testing.TB, hostJSON string, functions map[string]string, local map[string]string) string {
	t.Helper()
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "host.json"), []byte(hostJSON), 0o644))
	for name, fj := range functions {
		require.NoError(t, os.MkdirAll(filepath.Join(root, name), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, name, "function.json"), []byte(fj), 0o644))
	}
	bin, err := os.ReadFile(handlerBin)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(root, "handler"), bin, 0o755))
	if local != nil {
		require.NoError(t, os.WriteFile(filepath.Join(root, "local.settings.json"), mustJSON(localSettings{Values: local}), 0o644))
	}
	return root
}

// relay is the test's side of the relay handler: every invocation the
// host sends the handler arrives here.
type relay struct {
	srv *httptest.Server
}

func newRelay(t testing.TB, fn http.HandlerFunc) *relay {
	rl := &relay{srv: httptest.NewServer(fn)}
	t.Cleanup(rl.srv.Close)
	return rl
}

// startHost starts a host on a free port, stopped when the test ends.
func startHost(t testing.TB, root string, rl *relay, settings map[string]string, tweak ...func(*Config)) (*Host, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	s := map[string]string{"RELAY_URL": rl.srv.URL, "AzureWebJobsStorage": storageConn}
	for k, v := range settings {
		s[k] = v
	}
	cfg := Config{ScriptRoot: root, Addr: "127.0.0.1:0", Settings: s, Log: logs}
	for _, f := range tweak {
		f(&cfg)
	}
	h, err := New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	require.NoError(t, h.Start(ctx), logs.String())
	t.Cleanup(func() {
		h.Close()
		if t.Failed() {
			t.Logf("host console:\n%s", logs.String())
		}
	})
	return h, logs
}

// syncBuffer is a console writer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func do(t testing.TB, method, url string, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewBufferString(body))
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}
