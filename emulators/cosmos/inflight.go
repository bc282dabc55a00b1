package cosmos

import "sync"

// inflight counts the requests being served so Close can wait for them
// without waiting for idle HTTP/2 connections to go away.
type inflight struct {
	mu      sync.Mutex
	n       int
	closing bool
	idle    sync.Cond
}

// enter registers a request; false once draining has begun.
func (f *inflight) enter() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closing {
		return false
	}
	f.n++
	return true
}

func (f *inflight) leave() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n--
	if f.n == 0 {
		f.idle.Broadcast()
	}
}

// drain refuses new requests and waits for the ones being served.
func (f *inflight) drain() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closing = true
	if f.idle.L == nil {
		f.idle.L = &f.mu
	}
	for f.n > 0 {
		f.idle.Wait()
	}
}
