package inproc

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
)

// requestBody is the handler's view of the caller's request body: at
// most the length sent, unreadable once the round trip is over.
type requestBody struct {
	mu       sync.Mutex
	src      io.ReadCloser
	left     int64 // bytes the handler may still read; -1: until EOF
	closed   bool  // by the handler
	detached bool  // by RoundTrip
	srcErr   error // the caller's body failed to read
}

func (b *requestBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || b.detached {
		return 0, http.ErrBodyReadAfterClose
	}
	if b.left == 0 {
		return 0, io.EOF
	}
	if b.left > 0 && int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.src.Read(p)
	if err != nil && err != io.EOF {
		// net/http's client fails the round trip; the server sees the
		// body cut short.
		b.srcErr, err = err, io.ErrUnexpectedEOF
	}
	if b.left < 0 {
		return n, err
	}
	b.left -= int64(n)
	switch {
	case b.left == 0:
		err = io.EOF // with the last bytes, as net/http's server body does
	case err == io.EOF:
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// Close is the handler's: later reads fail, the caller's body stays open
// until the round trip ends, as with net/http's server.
func (b *requestBody) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return nil
}

// detach closes the caller's body and ends the handler's access to it;
// it returns the error reading the body failed with, if any.
func (b *requestBody) detach(req *http.Request) error {
	if b == nil {
		closeBody(req)
		return nil
	}
	// Close first, as net/http's client closes a body its write loop may
	// be reading: that ends a read blocked on the caller's body. Then
	// wait for a read under way.
	_ = b.src.Close()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.detached = true
	return b.srcErr
}

// responseBody is the caller's copy of what the handler wrote. Like
// net/http's, it fails once the request's context is done.
type responseBody struct {
	ctx    context.Context
	b      []byte
	i      int
	short  bool // the handler declared more than it wrote
	closed bool
}

var errReadAfterClose = errors.New("http: read on closed response body")

func (r *responseBody) Read(p []byte) (int, error) {
	if r.closed {
		return 0, errReadAfterClose
	}
	if r.i == len(r.b) {
		if r.short {
			return 0, io.ErrUnexpectedEOF
		}
		return 0, io.EOF
	}
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	n := copy(p, r.b[r.i:])
	r.i += n
	return n, nil
}

func (r *responseBody) Close() error {
	r.closed = true
	return nil
}
