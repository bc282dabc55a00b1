package funchost

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Every function on a container runs its own listener with a lease per
// feed range, and a caught-up listener reads again every feedPollDelay:
// with four functions on a four-range container the host polled sixteen
// times a delay, most of them finding nothing (an empty read costs about
// 0.15 ms of CPU here, client and emulator). The listeners of this host
// that are caught up on the same range with the same delay share one poll
// instead: the first to go idle polls on the delay, the others wait, and
// whatever that poll finds (documents, an error) wakes them all to read
// from their own continuation at once. Each still sees a document within
// one delay of its write, as on its own; reads that find documents are
// never shared, and each listener delivers and checkpoints its own batches.

// rangeWatches are this host's shared polls, one per feed range and delay.
type rangeWatches struct {
	mu sync.Mutex
	m  map[string]*rangeWatch
}

// of returns the watch of the listeners reading range r of container
// (connection, database and container) with poll delay d.
func (ws *rangeWatches) of(container string, r leaseRange, d time.Duration) *rangeWatch {
	key := fmt.Sprintf("%s %s %s", container, r, d)
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.m == nil {
		ws.m = map[string]*rangeWatch{}
	}
	w := ws.m[key]
	if w == nil {
		w = &rangeWatch{woken: make(chan struct{})}
		ws.m[key] = w
	}
	return w
}

// rangeWatch is one shared poll.
type rangeWatch struct {
	mu      sync.Mutex
	polling bool          // an idle listener is waiting out the delay for all
	woken   chan struct{} // closed when every idle listener must read
}

// since is the wake a listener about to read could miss: it passes it to
// idle after the read, so that a wake in between is not waited for.
func (w *rangeWatch) since() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.woken
}

// idle waits as a caught-up listener until it must read again: after the
// delay when it is the one polling, when woken (now or since its read
// began), or when a ctx ends. It reports whether the read that follows is
// the shared poll, whose finding anything but an empty page its caller
// must pass on with wake.
func (w *rangeWatch) idle(woken <-chan struct{}, d time.Duration, ctxs ...context.Context) bool {
	w.mu.Lock()
	poller := !w.polling
	w.polling = true
	w.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, c := range ctxs {
		defer context.AfterFunc(c, cancel)()
	}
	var timeout <-chan time.Time
	if poller {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-timeout:
		w.release()
		return true
	case <-woken:
		if poller {
			w.release()
		}
	case <-ctx.Done():
		if poller {
			w.release()
			w.wake() // another listener must take the poll over
		}
	}
	return false
}

func (w *rangeWatch) release() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.polling = false
}

// wake makes every idle listener read now.
func (w *rangeWatch) wake() {
	w.mu.Lock()
	defer w.mu.Unlock()
	close(w.woken)
	w.woken = make(chan struct{})
}
