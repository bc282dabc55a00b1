package cosmos

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func createStatus(t *testing.T, c *azcosmos.ContainerClient, id string) (int, http.Header) {
	t.Helper()
	_, err := c.CreateItem(ctxFor(t), azcosmos.NewPartitionKeyString("p"), []byte(`{"id":"`+id+`","pk":"p"}`), nil)
	if err == nil {
		return http.StatusCreated, nil
	}
	var re *azcore.ResponseError
	require.ErrorAs(t, err, &re)
	return re.StatusCode, re.RawResponse.Header
}

func TestUnavailableForAWhile(t *testing.T) {
	srv, clk, client := frozen(t, Options{})
	a := makeContainer(t, client, "db", "a", nil, nil)
	b := makeContainer(t, client, "db", "b", nil, nil)
	_, err := srv.InjectFault(Unavailable("a", 10*time.Second))
	require.NoError(t, err)

	status, h := readStatus(t, a)
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, "21008", h.Get("x-ms-substatus"))
	status, _ = readStatus(t, b)
	assert.Equal(t, http.StatusNotFound, status, "another container is served")

	clk.advance(10 * time.Second)
	status, _ = readStatus(t, a)
	assert.Equal(t, http.StatusNotFound, status, "served once the fault ends")
	assert.Empty(t, srv.Faults())
}

func TestFaultsByOperationAndStatus(t *testing.T) {
	tests := []struct {
		status    int
		substatus string
		retry     string
	}{
		{http.StatusTooManyRequests, "3200", "50"},
		{statusRetryWith, "0", ""},
		{http.StatusInternalServerError, "0", ""},
		{http.StatusRequestTimeout, "0", ""},
	}
	for _, tc := range tests {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			srv, _, client := frozen(t, Options{})
			c := makeContainer(t, client, "db", "c", nil, nil)
			_, err := srv.InjectFault(Fault{Op: OpWrite, Status: tc.status, Rate: 1, RetryAfter: Duration(50 * time.Millisecond)})
			require.NoError(t, err)
			status, h := createStatus(t, c, "x")
			assert.Equal(t, tc.status, status)
			assert.Equal(t, tc.substatus, h.Get("x-ms-substatus"))
			assert.Equal(t, tc.retry, h.Get("x-ms-retry-after-ms"))
			status, _ = readStatus(t, c)
			assert.Equal(t, http.StatusNotFound, status, "reads are not faulted")
		})
	}
}

func TestFaultRateIsAFraction(t *testing.T) {
	fs := newFaults()
	_, err := fs.add(Fault{Op: OpQuery, Container: "c", Status: http.StatusServiceUnavailable, Rate: 0.25})
	require.NoError(t, err)
	failed := 0
	for range 4000 {
		if _, e := fs.match(OpQuery, "c"); e != nil {
			failed++
		}
		_, e := fs.match(OpRead, "c")
		require.Nil(t, e)
	}
	assert.InDelta(t, 1000, failed, 150)
	st := fs.list()[0]
	assert.Equal(t, int64(4000), st.Matched)
	assert.Equal(t, int64(failed), st.Injected)
}

func TestLatencyDelaysTheRequest(t *testing.T) {
	srv, _, client := frozen(t, Options{})
	c := makeContainer(t, client, "db", "c", nil, nil)
	_, err := srv.InjectFault(Fault{Op: OpRead, Latency: Duration(time.Minute)})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = c.ReadItem(ctx, azcosmos.NewPartitionKeyString("p"), "x", nil)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "a minute's latency outlasts the caller's deadline")
	status, _ := createStatus(t, c, "x")
	assert.Equal(t, http.StatusCreated, status, "writes are not delayed")
}

func TestFaultValidation(t *testing.T) {
	bad := map[string]Fault{
		"unknown op":          {Op: "scan", Latency: Duration(time.Second)},
		"unknown status":      {Status: 404, Rate: 1},
		"status without rate": {Status: 503},
		"rate above one":      {Status: 503, Rate: 1.5},
		"rate without status": {Rate: 0.5},
		"nothing to do":       {Op: OpRead},
		"latency too long":    {Latency: Duration(time.Hour)},
	}
	for name, f := range bad {
		t.Run(name, func(t *testing.T) {
			assert.Error(t, f.validate())
		})
	}
	assert.NoError(t, Unavailable("", time.Second).validate())
}

// control sends a control request signed with key ("" = unsigned).
func control(t *testing.T, srv *Server, method, path, key, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, strings.TrimSuffix(srv.Endpoint(), "/")+path, strings.NewReader(body))
	require.NoError(t, err)
	if key != "" {
		require.NoError(t, ControlClient{Key: key}.sign(req, strings.TrimPrefix(path, controlPrefix)))
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return resp, buf.Bytes()
}

func TestControlEndpoint(t *testing.T) {
	srv, _, _ := frozen(t, Options{})
	key := srv.Key()
	resp, body := control(t, srv, http.MethodPost, "/_emulator/faults", key, `{"op":"write","status":429,"rate":0.5,"latency":"20ms","for":"1m"}`)
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))
	var st FaultState
	require.NoError(t, json.Unmarshal(body, &st))
	assert.Equal(t, Duration(20*time.Millisecond), st.Latency)
	assert.NotNil(t, st.Until)

	resp, body = control(t, srv, http.MethodGet, "/_emulator/faults", key, "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var list []FaultState
	require.NoError(t, json.Unmarshal(body, &list))
	require.Len(t, list, 1)
	assert.Equal(t, st.ID, list[0].ID)

	resp, _ = control(t, srv, http.MethodDelete, "/_emulator/faults", key, "")
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Empty(t, srv.Faults())

	refused := []struct {
		name, method, path, key, body string
		status                        int
	}{
		{"no key", http.MethodGet, "/_emulator/faults", "", "", http.StatusUnauthorized},
		{"wrong key", http.MethodGet, "/_emulator/faults", "d3Jvbmcga2V5", "", http.StatusUnauthorized},
		{"unknown field", http.MethodPost, "/_emulator/faults", key, `{"status":503,"rate":1,"when":"now"}`, http.StatusBadRequest},
		{"invalid fault", http.MethodPost, "/_emulator/faults", key, `{"status":404,"rate":1}`, http.StatusBadRequest},
		{"bad duration", http.MethodPost, "/_emulator/faults", key, `{"latency":"soon"}`, http.StatusBadRequest},
		{"unknown path", http.MethodGet, "/_emulator/nothing", key, "", http.StatusNotFound},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := control(t, srv, tc.method, tc.path, tc.key, tc.body)
			assert.Equal(t, tc.status, resp.StatusCode)
			assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
		})
	}
}

func TestFaultClientDrivesTheEndpoint(t *testing.T) {
	srv, _, _ := frozen(t, Options{})
	fc := NewFaultClient(srv.Endpoint(), srv.Key(), nil)
	ctx := ctxFor(t)
	st, err := fc.Inject(ctx, Fault{Op: OpBatch, Container: "orders", Status: http.StatusTooManyRequests, Rate: 0.1})
	require.NoError(t, err)
	list, err := fc.List(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, st, list[0])
	_, err = fc.Inject(ctx, Fault{Status: 418, Rate: 1})
	assert.ErrorContains(t, err, "418")
	require.NoError(t, fc.Clear(ctx))
	list, err = fc.List(ctx)
	require.NoError(t, err)
	assert.Empty(t, list)
	_, err = NewFaultClient(srv.Endpoint(), "d3Jvbmcga2V5", nil).List(ctx)
	assert.ErrorContains(t, err, "401")
	budgets, err := fc.Budgets(ctx)
	require.NoError(t, err)
	assert.Empty(t, budgets)
}

func TestSplitFault(t *testing.T) {
	srv, _, client := frozen(t, Options{})
	c := makeContainer(t, client, "db", "orders", nil, nil)
	_, err := c.CreateItem(ctxFor(t), azcosmos.NewPartitionKeyString("p"), []byte(`{"id":"1","pk":"p"}`), nil)
	require.NoError(t, err)

	st, err := srv.InjectFault(Fault{Split: true, Container: "orders"})
	require.NoError(t, err)
	require.Len(t, st.Splits, 1, "an immediate split is done when injected")
	assert.Equal(t, "0", st.Splits[0].Parent, "the widest range of a one-range container is 0")
	ranges, err := srv.Ranges("db", "orders")
	require.NoError(t, err)
	assert.Len(t, ranges, 2)
	_, err = c.ReadItem(ctxFor(t), azcosmos.NewPartitionKeyString("p"), "1", nil)
	assert.NoError(t, err, "the SDK reroutes to the children")

	_, err = srv.InjectFault(Fault{Split: true, Container: "orders", Range: st.Splits[0].Children[0].ID, After: Duration(time.Millisecond)})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		r, err := srv.Ranges("db", "orders")
		return err == nil && len(r) == 3
	}, 10*time.Second, 5*time.Millisecond, "a delayed split happens after its delay")
	listed := srv.Faults()
	require.Len(t, listed, 2)
	assert.Len(t, listed[1].Splits, 1, "the delayed split lists its outcome")

	_, err = srv.InjectFault(Fault{Split: true, Container: "orders", Range: "0"})
	assert.Error(t, err, "range 0 was already split")
	_, err = srv.InjectFault(Fault{Split: true, Container: "missing"})
	assert.Error(t, err)
	assert.Len(t, srv.Faults(), 2, "refused splits are not listed")

	_, err = srv.InjectFault(Fault{Split: true, Container: "orders", Range: "0", After: Duration(time.Millisecond)})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		l := srv.Faults()
		return len(l) == 3 && l[2].Error != ""
	}, 10*time.Second, 5*time.Millisecond, "a delayed split that cannot split says why")
}

func TestSplitFaultIsValidated(t *testing.T) {
	srv, _, _ := frozen(t, Options{})
	for _, f := range []Fault{
		{Split: true},
		{Split: true, Container: "c", Status: http.StatusServiceUnavailable, Rate: 1},
		{Split: true, Container: "c", After: Duration(-time.Second)},
		{Container: "c", Range: "0", Latency: Duration(time.Millisecond)},
	} {
		_, err := srv.InjectFault(f)
		assert.Error(t, err, "%+v", f)
	}
}

func TestClearedSplitFaultDoesNotFire(t *testing.T) {
	srv, _, client := frozen(t, Options{})
	makeContainer(t, client, "db", "orders", nil, nil)
	_, err := srv.InjectFault(Fault{Split: true, Container: "orders", After: Duration(time.Hour)})
	require.NoError(t, err)
	require.Len(t, srv.Faults(), 1, "a pending split is listed")
	srv.ClearFaults()
	assert.Empty(t, srv.Faults())
	ranges, err := srv.Ranges("db", "orders")
	require.NoError(t, err)
	assert.Len(t, ranges, 1)
}
