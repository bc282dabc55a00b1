package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/devstack"
)

// get sends GET path with key (if any) in x-functions-key.
func (c *client) get(t *testing.T, path, key string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("x-functions-key", key)
	}
	resp, err := c.http.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

func assertProblem(t *testing.T, resp *http.Response, body []byte, status int) {
	t.Helper()
	assert.Equal(t, status, resp.StatusCode, string(body))
	assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	var p struct{ Status int }
	require.NoError(t, json.Unmarshal(body, &p), string(body))
	assert.Equal(t, status, p.Status)
}

// TestOpsRoutesNeedTheirKey: authLevel function from function.json is
// enforced by the host, with the keys it keeps in Azurite.
func TestOpsRoutesNeedTheirKey(t *testing.T) {
	st := startStack(t, devstack.Options{})
	c := newClient(st.URL())
	listKey := st.FunctionKey("ListDeadLetters")
	require.NotEmpty(t, listKey)

	resp, body := c.get(t, "/api/ops/dead-letters", "")
	assertProblem(t, resp, body, http.StatusUnauthorized)
	resp, body = c.get(t, "/api/ops/dead-letters", st.FunctionKey("ReplayDeadLetter"))
	assertProblem(t, resp, body, http.StatusUnauthorized)
	for name, key := range map[string]string{"its own key": listKey, "the host key": st.HostKey(), "the master key": st.MasterKey()} {
		resp, body = c.get(t, "/api/ops/dead-letters", key)
		assert.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", name, body)
	}
	resp, body = c.get(t, "/api/ops/dead-letters?code="+url.QueryEscape(listKey), "")
	assert.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	resp, body = c.get(t, "/api/products", "")
	assert.Equal(t, http.StatusOK, resp.StatusCode, "anonymous routes stay open: %s", body)

	blobs, err := azblob.NewClientFromConnectionString(st.StorageConnectionString(), nil)
	require.NoError(t, err)
	var names []string
	pager := blobs.NewListBlobsFlatPager("azure-webjobs-secrets", nil)
	for pager.More() {
		page, err := pager.NextPage(t.Context())
		require.NoError(t, err)
		for _, b := range page.Segment.BlobItems {
			names = append(names, *b.Name)
		}
	}
	assert.Contains(t, names, st.HostID()+"/host.json")
	assert.Contains(t, names, st.HostID()+"/listdeadletters.json")
}

// TestBigBodies: a 10 MB checkout gets the handler's own 413 every time
// (the handler answers and closes while the host is still sending), and a
// body over the host's 100 MB limit gets the host's 413 before any is sent.
func TestBigBodies(t *testing.T) {
	st := startStack(t, devstack.Options{})
	c := newClient(st.URL())
	body := bytes.Repeat([]byte(" "), 10<<20)
	for i := range 3 {
		resp, b, err := c.place(body, "")
		require.NoError(t, err, "attempt %d", i)
		assertProblem(t, resp, b, http.StatusRequestEntityTooLarge)
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(st.URL(), "http://"))
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "POST /api/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 104857601\r\n\r\n")
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(20*time.Second)))
	head := make([]byte, 64)
	n, err := io.ReadAtLeast(conn, head, 12)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(head[:n]), "HTTP/1.1 413 "), "%q", head[:n])
}

// TestCloseWithStalledUploads is Ctrl-C while clients hold half-sent
// checkouts: the whole stack stops promptly and cleanly.
func TestCloseWithStalledUploads(t *testing.T) {
	st := startStack(t, devstack.Options{})
	for range 3 {
		conn, err := net.Dial("tcp", strings.TrimPrefix(st.URL(), "http://"))
		require.NoError(t, err)
		defer conn.Close()
		_, err = io.WriteString(conn, "POST /api/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"customerId\":")
		require.NoError(t, err)
	}
	closed := make(chan error, 1)
	go func() { closed <- st.Close() }()
	select {
	case err := <-closed:
		assert.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("the stack is still waiting for stalled uploads")
	}
}
