package funchost

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTimeSpan(t *testing.T) {
	tests := map[string]time.Duration{
		"00:00:00.200": 200 * time.Millisecond,
		"00:00:10":     10 * time.Second,
		"00:05:00":     5 * time.Minute,
		"01:30":        90 * time.Minute,
		"1.02:00:00":   26 * time.Hour,
		"2":            48 * time.Hour,
		"00:00:01.5":   1500 * time.Millisecond,
	}
	for in, want := range tests {
		got, err := parseTimeSpan(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "10s", "00:61:00", "abc"} {
		_, err := parseTimeSpan(bad)
		assert.Error(t, err, bad)
	}
	assert.Equal(t, "00:05:00", formatTimeSpan(5*time.Minute))
}

func TestBackoffDelays(t *testing.T) {
	t.Run("fixedDelay", func(t *testing.T) {
		b := newBackoff(&retryPolicy{Strategy: "fixedDelay", Delay: time.Second})
		for range 3 {
			assert.Equal(t, time.Second, b.next())
		}
	})
	t.Run("exponentialBackoff without jitter", func(t *testing.T) {
		b := newBackoff(&retryPolicy{Strategy: "exponentialBackoff", Min: 200 * time.Millisecond, Max: 2 * time.Second})
		b.jitter = func() float64 { return 1 }
		var got []time.Duration
		for range 7 {
			got = append(got, b.next())
		}
		ms := time.Millisecond
		assert.Equal(t, []time.Duration{200 * ms, 400 * ms, 600 * ms, 1000 * ms, 1800 * ms, 2000 * ms, 2000 * ms}, got)
	})
	t.Run("jitter stays within 20%", func(t *testing.T) {
		b := newBackoff(&retryPolicy{Strategy: "exponentialBackoff", Min: time.Second, Max: time.Hour})
		b.next()
		d := b.next() - time.Second // min + jitter*2^0*min
		assert.GreaterOrEqual(t, d, 800*time.Millisecond)
		assert.Less(t, d, 1200*time.Millisecond)
	})
}

func TestRouteMatching(t *testing.T) {
	tests := []struct {
		template, path string
		want           map[string]string
	}{
		{"orders/{id}", "orders/o-1", map[string]string{"id": "o-1"}},
		{"orders/{id}", "ORDERS/o-1", map[string]string{"id": "o-1"}},
		{"orders/{id}", "orders", nil},
		{"orders/{id}", "orders/a/b", nil},
		{"orders/{id}", "orders/a%20b", map[string]string{"id": "a b"}},
		{"items/{id:int}", "items/12", map[string]string{"id": "12"}},
		{"items/{id:int}", "items/x", nil},
		{"items/{id:guid}", "items/0b0e1a4c-3c1e-4f36-9a53-6b2ad1fdc0c1", map[string]string{"id": "0b0e1a4c-3c1e-4f36-9a53-6b2ad1fdc0c1"}},
		{"items/{id:alpha:length(2)}", "items/ab", map[string]string{"id": "ab"}},
		{"items/{id:alpha:length(2)}", "items/abc", nil},
		{"items/{id:regex(^a.c$)}", "items/abc", map[string]string{"id": "abc"}},
		{"items/{id:range(1,5)}", "items/6", nil},
		{"items/{id?}", "items", map[string]string{}},
		{"items/{id=7}", "items", map[string]string{"id": "7"}},
		{"files/{*path}", "files/a/b/c", map[string]string{"path": "a/b/c"}},
		{"ops/dead-letters/{id}/replay", "ops/dead-letters/d1/replay", map[string]string{"id": "d1"}},
	}
	for _, tc := range tests {
		r, err := parseRoute(tc.template)
		require.NoError(t, err, tc.template)
		got, ok := r.match(tc.path)
		if tc.want == nil {
			assert.False(t, ok, "%s ~ %s", tc.template, tc.path)
			continue
		}
		assert.True(t, ok, "%s ~ %s", tc.template, tc.path)
		assert.Equal(t, tc.want, got, "%s ~ %s", tc.template, tc.path)
	}
}

func TestRoutePrecedence(t *testing.T) {
	fns := []*function{}
	for name, tmpl := range map[string]string{"Param": "orders/{id}", "Literal": "orders/latest", "CatchAll": "{*any}"} {
		r, err := parseRoute(tmpl)
		require.NoError(t, err)
		fns = append(fns, &function{Name: name, HTTP: &httpTrigger{Route: r}})
	}
	rt, err := newRouter("api", fns)
	require.NoError(t, err)
	for path, want := range map[string]string{"/api/orders/latest": "Literal", "/api/orders/o-1": "Param", "/api/x/y": "CatchAll"} {
		f, _, _ := rt.find(path, "GET")
		require.NotNil(t, f, path)
		assert.Equal(t, want, f.Name, path)
	}
}

func TestDocumentsAreDoubleEncoded(t *testing.T) {
	got := documentsValue([][]byte{[]byte(`{"id": "a"}`), []byte(`{"id":"b"}`)})
	assert.Equal(t, `"\"[{\\\"id\\\":\\\"a\\\"},{\\\"id\\\":\\\"b\\\"}]\""`, string(got))
}

func TestFeedPollDelayComesFromFunctionJSONUnlessOverridden(t *testing.T) {
	root := stageApp(t, forwardingHostJSON, map[string]string{"ApplyTax": triggerFn(``, "")}, nil)
	settings := map[string]string{"COSMOS": testConn, "COSMOS_DATABASE": "commerce", "LEASES": "leases"}
	for override, want := range map[time.Duration]time.Duration{0: time.Minute, 20 * time.Millisecond: 20 * time.Millisecond} {
		h, err := New(Config{ScriptRoot: root, Settings: settings, FeedPollDelay: override})
		require.NoError(t, err)
		assert.Equal(t, want, newListener(h, h.fns[0], "me").pollDelay)
	}
}

func TestBriefCosmosErrorsAreOneLine(t *testing.T) {
	req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1:1/dbs/commerce/colls/orders", nil)
	require.NoError(t, err)
	resp := &http.Response{StatusCode: 404, Status: "404 Not Found", Request: req,
		Header: http.Header{"X-Ms-Error-Code": {"NotFound"}}, Body: io.NopCloser(strings.NewReader(`{"code":"NotFound"}`))}
	err = brief(fmt.Errorf("wrapped: %w", runtime.NewResponseError(resp)))
	assert.Equal(t, "GET /dbs/commerce/colls/orders: Cosmos DB answered 404 NotFound", err.Error())
	assert.Equal(t, 404, statusCode(err))
}
