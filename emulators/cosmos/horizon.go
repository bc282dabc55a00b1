package cosmos

import (
	"context"
	"sync"
)

// horizon is a container's durable LSN: every write up to it is on disk
// (or, in memory, applied). Requests wait on it so that no answer reveals
// a write that a crash could still lose.
type horizon struct {
	mu      sync.Mutex
	lsn     uint64
	err     error         // set when the journal failed: the horizon is stuck
	advance chan struct{} // closed and replaced whenever lsn moves or err is set
}

func (h *horizon) load() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lsn
}

// moveTo records that every write up to lsn is durable.
func (h *horizon) moveTo(lsn uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if lsn > h.lsn {
		h.lsn = lsn
		h.wake()
	}
}

// fail records that writes past the horizon will never become durable.
func (h *horizon) fail(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err == nil {
		h.err = err
		h.wake()
	}
}

func (h *horizon) wake() {
	if h.advance != nil {
		close(h.advance)
		h.advance = nil
	}
}

// wait returns once every write up to lsn is durable.
func (h *horizon) wait(ctx context.Context, lsn uint64) error {
	for {
		h.mu.Lock()
		if h.lsn >= lsn {
			h.mu.Unlock()
			return nil
		}
		if h.err != nil {
			h.mu.Unlock()
			return newError(503, "the emulator's store failed: %v", h.err)
		}
		if h.advance == nil {
			h.advance = make(chan struct{})
		}
		ch := h.advance
		h.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
