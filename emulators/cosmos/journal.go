package cosmos

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
)

// journal is the group committer: it writes every queued mutation into the
// bbolt file, many per fsynced transaction, in the order they were queued.
type journal struct {
	db      *bolt.DB
	queue   chan *pending
	stopped chan struct{}

	mu     sync.RWMutex // held for reading while queueing, for writing to close
	closed bool
	failed atomic.Pointer[error] // sticky: set by the first failed commit
}

// pending is one queued mutation; wait returns once it is durable.
type pending struct {
	write func(*bolt.Tx) error
	after func(error) // runs with the commit's outcome, before wait returns
	done  chan error
}

var errJournalClosed = errors.New("the emulator is shutting down")

const maxGroup = 1024

func newJournal(db *bolt.DB) *journal {
	j := &journal{db: db, queue: make(chan *pending, 4096), stopped: make(chan struct{})}
	go j.run()
	return j
}

// submit queues a mutation. In memory (j == nil) it is durable at once.
// Callers hold the lock that orders their writes, so the queue order is
// the commit order.
func (j *journal) submit(write func(*bolt.Tx) error, after func(error)) *pending {
	p := &pending{write: write, after: after, done: make(chan error, 1)}
	if j == nil {
		after(nil)
		p.done <- nil
		return p
	}
	j.mu.RLock()
	defer j.mu.RUnlock()
	switch {
	case j.failed.Load() != nil:
		p.finish(newError(503, "the emulator's store failed earlier: %v", *j.failed.Load()))
	case j.closed:
		p.finish(errJournalClosed)
	default:
		j.queue <- p
	}
	return p
}

func (p *pending) finish(err error) {
	p.after(err)
	p.done <- err
}

// wait blocks until the mutation is durable. A nil pending is durable.
func (p *pending) wait() error {
	if p == nil {
		return nil
	}
	return <-p.done
}

func (j *journal) run() {
	defer close(j.stopped)
	for first := range j.queue {
		group := j.collect(first)
		err := j.db.Update(func(tx *bolt.Tx) error { return writeGroup(tx, group) })
		if err != nil {
			j.fail(err)
		}
		for _, p := range group {
			p.finish(err)
		}
	}
}

// collect takes every mutation already queued behind first, up to maxGroup.
func (j *journal) collect(first *pending) []*pending {
	group := []*pending{first}
	for len(group) < maxGroup {
		select {
		case p, ok := <-j.queue:
			if !ok {
				return group
			}
			group = append(group, p)
		default:
			return group
		}
	}
	return group
}

func writeGroup(tx *bolt.Tx, group []*pending) error {
	for _, p := range group {
		if err := p.write(tx); err != nil {
			return err
		}
	}
	return nil
}

func (j *journal) fail(err error) {
	j.failed.CompareAndSwap(nil, &err)
}

// close commits what is queued, then stops the committer and the file.
func (j *journal) close() error {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	if !j.closed {
		j.closed = true
		close(j.queue)
	}
	j.mu.Unlock()
	<-j.stopped
	if err := j.db.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}
