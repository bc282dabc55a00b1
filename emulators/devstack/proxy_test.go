package devstack

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func backend(t *testing.T, name string, h http.HandlerFunc) *url.URL {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Instance", name)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	return u
}

func front(t *testing.T, rr *roundRobin) string {
	t.Helper()
	srv := httptest.NewServer(rr)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestRoundRobinSpreadsRequestsOverLiveInstances(t *testing.T) {
	rr := newRoundRobin()
	echo := func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(w, r.Body) }
	a, b, c := backend(t, "a", echo), backend(t, "b", echo), backend(t, "c", echo)
	for _, u := range []*url.URL{a, b, c} {
		rr.add(u)
	}
	base := front(t, rr)
	seen := map[string]int{}
	for i := range 9 {
		resp, err := http.Post(base+"/api/orders", "text/plain", strings.NewReader(fmt.Sprint(i)))
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, fmt.Sprint(i), string(body), "the body goes through")
		seen[resp.Header.Get("X-Instance")]++
	}
	assert.Equal(t, map[string]int{"a": 3, "b": 3, "c": 3}, seen)

	rr.remove(b)
	seen = map[string]int{}
	for range 4 {
		resp, err := http.Get(base + "/")
		require.NoError(t, err)
		resp.Body.Close()
		seen[resp.Header.Get("X-Instance")]++
	}
	assert.Equal(t, map[string]int{"a": 2, "c": 2}, seen, "an exited instance gets nothing")

	rr.remove(a)
	rr.remove(c)
	resp, err := http.Get(base + "/")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
}

func TestRoundRobinPassesErrorsThroughUnchanged(t *testing.T) {
	rr := newRoundRobin()
	rr.add(backend(t, "a", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, `{"title":"slow down"}`)
	}))
	resp, err := http.Get(front(t, rr) + "/api/orders/x")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "3", resp.Header.Get("Retry-After"))
	assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	assert.Equal(t, `{"title":"slow down"}`, string(body))
}

// The first line of a response reaches the client while the instance is
// still writing the rest: nothing is buffered.
func TestRoundRobinStreams(t *testing.T) {
	rr := newRoundRobin()
	release := make(chan struct{})
	rr.add(backend(t, "a", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		<-release
		_, _ = io.WriteString(w, "second\n")
	}))
	resp, err := http.Get(front(t, rr) + "/")
	require.NoError(t, err)
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	line, err := rd.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "first\n", line)
	close(release)
	line, err = rd.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "second\n", line)
}

func TestRoundRobinAnswersADeadInstanceWithAProblem(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // an instance that died before it was taken out of the rotation
	rr := newRoundRobin()
	rr.add(&url.URL{Scheme: "http", Host: addr})
	resp, err := http.Get(front(t, rr) + "/")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
}

// An instance that died before it left the rotation: a request without a
// body goes to the next instance instead.
func TestRoundRobinSkipsARefusingInstanceForBodylessRequests(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	rr := newRoundRobin()
	rr.add(backend(t, "live", func(w http.ResponseWriter, r *http.Request) {
		assert.Len(t, r.Header.Values("X-Forwarded-For"), 1)
	}))
	rr.add(&url.URL{Scheme: "http", Host: addr})
	base := front(t, rr)
	for range 4 {
		resp, err := http.Get(base + "/api/products")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "live", resp.Header.Get("X-Instance"))
	}

	// The first pick of a new rotation is its second instance: the dead one.
	rr = newRoundRobin()
	rr.add(backend(t, "live", func(http.ResponseWriter, *http.Request) {}))
	rr.add(&url.URL{Scheme: "http", Host: addr})
	resp, err := http.Post(front(t, rr)+"/api/orders", "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode, "a request with a body is not sent twice")
}
