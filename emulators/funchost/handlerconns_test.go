package funchost

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestForwardedRequestsKeepTheirConnection: one client after another, with
// and without a body, all reach the handler on one connection.
func TestForwardedRequestsKeepTheirConnection(t *testing.T) {
	h, _ := startHost(t, stageApp(t, forwardingHostJSON, httpFunctions, nil), newRelay(t, nil), nil)
	conns := map[string]int{}
	for i := range 6 {
		method, body := http.MethodGet, ""
		if i%2 == 1 {
			method, body = http.MethodPost, strings.Repeat("x", 100<<10)
		}
		resp, got := do(t, method, h.URL()+"/api/hooks/__conn", body, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, got)
		conns[got]++
	}
	assert.Len(t, conns, 1, "the host's connections to the handler: %v", conns)
}

// TestEnvelopeInvocationsKeepTheirConnections: after a round of
// concurrent invocations every connection stays open for the next round
// (Go's default transport would keep two and dial the rest again).
func TestEnvelopeInvocationsKeepTheirConnections(t *testing.T) {
	const inFlight = 8
	conns := make(chan string, inFlight)
	var arrived sync.WaitGroup
	rl := newRelay(t, func(w http.ResponseWriter, r *http.Request) {
		conns <- r.Header.Get("X-Handler-Conn")
		arrived.Done()
		arrived.Wait() // every invocation of the round is in flight at once
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"Outputs":{"res":{"statusCode":200}},"Logs":[],"ReturnValue":null}`)
	})
	h, _ := startHost(t, stageApp(t, envelopeHostJSON, httpFunctions, nil), rl, nil)
	round := func() map[string]bool {
		arrived.Add(inFlight)
		var wg sync.WaitGroup
		for range inFlight {
			wg.Go(func() {
				resp, _ := do(t, http.MethodGet, h.URL()+"/api/orders/o-1", "", nil)
				assert.Equal(t, http.StatusOK, resp.StatusCode)
			})
		}
		wg.Wait()
		seen := map[string]bool{}
		for range inFlight {
			seen[<-conns] = true
		}
		return seen
	}
	first, second := round(), round()
	require.Len(t, first, inFlight)
	assert.Equal(t, first, second, "the second round runs on the first round's connections")
}

// pipeConn is an idle connection to a fake handler (the other end).
func pipeConn() (*handlerConn, net.Conn) {
	ours, theirs := net.Pipe()
	return &handlerConn{Conn: ours, br: bufio.NewReader(ours)}, theirs
}

func TestIdleConnectionIsReusedWhileOpen(t *testing.T) {
	var p handlerConns
	c, theirs := pipeConn()
	defer theirs.Close()
	p.put(c)
	got := p.get()
	require.Same(t, c, got)
	assert.Nil(t, p.get(), "a connection is handed out once")
	done := make(chan error, 1)
	go func() { _, err := io.WriteString(theirs, "HTTP/1.1 200 OK\r\n"); done <- err }()
	line, err := got.br.ReadString('\n')
	require.NoError(t, err, "the connection reads again after the idle watch")
	assert.Equal(t, "HTTP/1.1 200 OK\r\n", line)
	require.NoError(t, <-done)
}

func TestConnectionTheHandlerClosedIsDropped(t *testing.T) {
	var p handlerConns
	c, theirs := pipeConn()
	p.put(c)
	theirs.Close()
	assert.Nil(t, p.get(), "a closed connection is never handed out")
}

func TestConnectionWithUnaskedBytesIsDropped(t *testing.T) {
	var p handlerConns
	c, theirs := pipeConn()
	defer theirs.Close()
	p.put(c)
	go io.WriteString(theirs, "junk") //nolint:errcheck // the pipe closes when dropped
	assert.Eventually(t, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.idle) == 0
	}, 10*time.Second, 5*time.Millisecond, "the watch drops it on its own")
	assert.Nil(t, p.get())
}

func TestIdleConnectionsAreBounded(t *testing.T) {
	var p handlerConns
	var theirs []net.Conn
	for range maxIdleHandlerConns + 3 {
		c, other := pipeConn()
		theirs = append(theirs, other)
		p.put(c)
	}
	defer func() {
		for _, c := range theirs {
			c.Close()
		}
	}()
	kept := 0
	for p.get() != nil {
		kept++
	}
	assert.Equal(t, maxIdleHandlerConns, kept)
}

func TestCloseClosesIdleConnections(t *testing.T) {
	var p handlerConns
	c, theirs := pipeConn()
	p.put(c)
	p.close()
	_, err := theirs.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF, "the handler sees the connection closed")
	c2, theirs2 := pipeConn()
	p.put(c2)
	_, err = theirs2.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF, "a connection returned after close is closed")
	assert.Nil(t, p.get())
}
