package funchost

import (
	"bufio"
	"errors"
	"net"
	"os"
	"sync"
	"time"
)

// Keep-alive connections to the handler, for forwarded requests: the real
// host's HttpClient pools its connections to the custom handler too.
const (
	maxIdleHandlerConns = 64               // more idle ones than this are closed
	handlerConnIdle     = 60 * time.Second // an idle connection is closed after this
)

var aLongTimeAgo = time.Unix(1, 0)

// handlerConn is one connection to the handler with its reader, which may
// hold the start of the next response.
type handlerConn struct {
	net.Conn
	br      *bufio.Reader
	watched chan error // the idle watch's result once it was taken
}

// handlerConns keeps idle connections to the handler, at most
// maxIdleHandlerConns, each closed after handlerConnIdle unused or as soon
// as the handler closes it (it exited, or timed the connection out).
type handlerConns struct {
	mu     sync.Mutex
	idle   []*handlerConn
	closed bool
}

// get takes the most recently used idle connection that is still open, or
// returns nil.
func (p *handlerConns) get() *handlerConn {
	for {
		p.mu.Lock()
		n := len(p.idle)
		if n == 0 {
			p.mu.Unlock()
			return nil
		}
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		if c.stopWatch() {
			return c
		}
		c.Close()
	}
}

// put keeps c for the next request, or closes it when the pool is full
// or closed.
func (p *handlerConns) put(c *handlerConn) {
	p.mu.Lock()
	if p.closed || len(p.idle) >= maxIdleHandlerConns {
		p.mu.Unlock()
		c.Close()
		return
	}
	c.watched = make(chan error, 1)
	// The deadline is set before get can see c, so that get's deadline,
	// which ends the watch, always comes after it.
	_ = c.SetReadDeadline(time.Now().Add(handlerConnIdle))
	p.idle = append(p.idle, c)
	p.mu.Unlock()
	go p.watch(c)
}

// watch waits on an idle connection for the handler closing it (or
// sending anything unasked) or for the idle timeout, and then drops it.
// When get takes the connection meanwhile, it ends the wait with a past
// deadline and the result goes to get.
func (p *handlerConns) watch(c *handlerConn) {
	_, err := c.br.Peek(1)
	p.mu.Lock()
	for i, idle := range p.idle {
		if idle == c {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			p.mu.Unlock()
			c.Close()
			return
		}
	}
	p.mu.Unlock()
	c.watched <- err
}

// stopWatch ends the idle watch of a connection get took and reports
// whether it is still open with nothing unread.
func (c *handlerConn) stopWatch() bool {
	_ = c.SetReadDeadline(aLongTimeAgo)
	err := <-c.watched
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		return false // closed by the handler, or bytes nobody asked for
	}
	return c.SetReadDeadline(time.Time{}) == nil
}

// close closes every idle connection; later ones are closed on put.
func (p *handlerConns) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, c := range idle {
		c.Close()
	}
}
