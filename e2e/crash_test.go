package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/internal/testutil"
)

// stackProcess is `devstack` running as its own process group.
type stackProcess struct {
	cmd    *exec.Cmd
	url    string
	cosmos string // the Cosmos DB connection string it printed
	done   chan struct{}
}

func buildDevstack(t *testing.T) string {
	t.Helper()
	root := testutil.RepoRoot(t)
	bin := filepath.Join(t.TempDir(), "devstack")
	build := exec.Command("go", "build", "-o", bin, "./cmd/devstack")
	build.Dir, build.Stderr = root, os.Stderr
	require.NoError(t, build.Run())
	return bin
}

func startProcess(t *testing.T, bin string, args ...string) *stackProcess {
	t.Helper()
	root := testutil.RepoRoot(t)
	cmd := exec.Command(bin, args...)
	cmd.Dir = root
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	p := &stackProcess{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.kill(syscall.SIGTERM) })
	ready := make(chan [2]string, 1)
	go func() {
		var url string
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if v, ok := strings.CutPrefix(line, "FUNCTIONS_URL="); ok {
				url = v
			}
			if v, ok := strings.CutPrefix(line, "COSMOS="); ok {
				ready <- [2]string{url, v}
			}
		}
	}()
	select {
	case got := <-ready:
		p.url, p.cosmos = got[0], got[1]
	case <-p.done:
		require.FailNow(t, "devstack exited before it was ready")
	case <-time.After(90 * time.Second):
		require.FailNow(t, "devstack not ready in 90s")
	}
	return p
}

// kill signals the whole process group (devstack and its handler) and waits.
func (p *stackProcess) kill(sig syscall.Signal) {
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

// TestCrashInTheMiddleOfOrders SIGKILLs the stack while 200 orders are being
// placed and processed, restarts it on the same data, and checks that every
// accepted order finishes, none is charged twice and no event is duplicated.
// Half the orders carry an Idempotency-Key; after the restart each is sent
// again with its key, as a client that may have seen no answer would, and
// must get its order from before the crash, never a second one.
func TestCrashInTheMiddleOfOrders(t *testing.T) {
	bus := startBus(t)

	bin := buildDevstack(t)
	args := []string{"-app", appDir, "-port", freePort(t), "-data", t.TempDir(), "-servicebus", bus.ConnectionString()}
	first := startProcess(t, bin, args...)
	c := newClient(first.url)

	accepted, byKey := placeWhileKilling(t, c, 200, 80, func() { first.kill(syscall.SIGKILL) })
	t.Logf("%d of 200 orders accepted before and around the crash", len(accepted))
	require.GreaterOrEqual(t, len(accepted), 80)

	second := startProcess(t, bin, args...)
	c = newClient(second.url)
	accepted = append(accepted, retryKeyed(t, c, 200, byKey)...)
	assertOneOrderPerKey(t, second.cosmos)
	for _, id := range accepted {
		c.waitTerminal(t, id, 120*time.Second)
	}
	// Orders written as the stack died never got their 202 to the client, but
	// they exist: every order in the database must finish, not only the
	// acknowledged ones.
	all := storedOrders(t, second.cosmos)
	require.GreaterOrEqual(t, len(all), len(accepted))
	t.Logf("%d orders in the database, %d of them acknowledged", len(all), len(accepted))
	fulfilled := 0
	for _, id := range all {
		o := c.waitTerminal(t, id, 120*time.Second)
		assertEventsOnce(t, o)
		if o.Status == "Fulfilled" {
			fulfilled++
		}
	}
	charges := 0
	for _, e := range ledger(t, second.cosmos) {
		if e.Kind == "charge" {
			charges++
			assert.Equal(t, 1, e.Attempts, "order %s was charged more than once", e.OrderID)
		}
	}
	assert.Equal(t, fulfilled, charges, "one capture per fulfilled order")
	assert.Equal(t, 1000-fulfilled, available(t, c, "MUG-CLASSIC"), "stock reserved once per fulfilled order")
}

func crashKey(i int) string {
	if i%2 == 1 {
		return ""
	}
	return fmt.Sprintf("crash-%03d", i)
}

// placeWhileKilling places n orders from 8 workers and calls kill once
// killAfter of them have been accepted. It returns the accepted order ids,
// and those of the keyed orders by key.
func placeWhileKilling(t *testing.T, c *client, n, killAfter int, kill func()) ([]string, map[string]string) {
	t.Helper()
	var mu sync.Mutex
	var accepted []string
	byKey := map[string]string{}
	var once sync.Once
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				resp, b, err := c.place(checkoutBody("tok_visa", "MUG-CLASSIC", 1), crashKey(i))
				if err != nil || resp.StatusCode != http.StatusAccepted {
					continue
				}
				var o orderBody
				if jsonErr := json.Unmarshal(b, &o); jsonErr != nil {
					continue
				}
				mu.Lock()
				accepted = append(accepted, o.ID)
				if key := crashKey(i); key != "" {
					byKey[key] = o.ID
				}
				if len(accepted) == killAfter {
					go once.Do(kill)
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < n; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	once.Do(kill)
	return accepted, byKey
}

// retryKeyed sends every keyed request of placeWhileKilling again. Each is
// answered 202; a key accepted before the crash answers with its order.
// It returns the ids of the keys that had no answer before.
func retryKeyed(t *testing.T, c *client, n int, byKey map[string]string) []string {
	t.Helper()
	var fresh []string
	for i := 0; i < n; i++ {
		key := crashKey(i)
		if key == "" {
			continue
		}
		resp, b, err := c.place(checkoutBody("tok_visa", "MUG-CLASSIC", 1), key)
		require.NoError(t, err)
		require.Equal(t, http.StatusAccepted, resp.StatusCode, string(b))
		var o orderBody
		require.NoError(t, json.Unmarshal(b, &o))
		before, ok := byKey[key]
		if !ok {
			fresh = append(fresh, o.ID)
			continue
		}
		assert.Equal(t, before, o.ID, "key %s answers with its order from before the crash", key)
		assert.Equal(t, "true", resp.Header.Get("Idempotent-Replayed"), key)
	}
	return fresh
}

// assertOneOrderPerKey: no Idempotency-Key has two orders in Cosmos DB.
func assertOneOrderPerKey(t *testing.T, conn string) {
	t.Helper()
	orders := map[string][]string{}
	queryAll(t, conn, "orders", "SELECT * FROM c WHERE c.kind = 'order'", func(raw []byte) {
		var o struct {
			ID             string `json:"id"`
			IdempotencyKey string `json:"idempotencyKey"`
		}
		require.NoError(t, json.Unmarshal(raw, &o))
		if o.IdempotencyKey != "" {
			orders[o.IdempotencyKey] = append(orders[o.IdempotencyKey], o.ID)
		}
	})
	assert.Len(t, orders, 100, "every key placed its order")
	for key, ids := range orders {
		assert.Len(t, ids, 1, "key %s placed %v", key, ids)
	}
}

func assertEventsOnce(t *testing.T, o orderBody) {
	t.Helper()
	seen := map[string]bool{}
	for i, e := range o.Events {
		assert.Equal(t, i+1, e.Seq, "order %s", o.ID)
		assert.False(t, seen[e.Type], "order %s has %s twice", o.ID, e.Type)
		seen[e.Type] = true
	}
	assert.Equal(t, o.Version, len(o.Events))
}
