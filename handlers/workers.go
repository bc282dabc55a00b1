package handlers

import (
	"sync"
	"sync/atomic"
	"time"
)

// workers runs the stages' streams on goroutines that outlive an
// invocation. A stream's call path (the SDK's policy pipeline, net/http)
// needs a stack several times the size a new goroutine starts with, and
// growing a fresh one for every order of every batch (copying it twice,
// frame by frame) was about 5% of the handler's CPU under load; a worker
// keeps the stack it grew. A worker idle for workerIdle exits, so the pool
// is as large as the recent peak of streams in flight, and no larger.
type workers struct {
	tasks chan func()
	idle  time.Duration // how long a worker waits for its next task
	live  atomic.Int64  // workers running or waiting
}

// workerIdle is how long a worker waits for its next task before it exits.
const workerIdle = 30 * time.Second

func newWorkers(idle time.Duration) *workers { return &workers{tasks: make(chan func()), idle: idle} }

// run hands task to an idle worker, or starts a new one for it.
func (w *workers) run(task func()) {
	select {
	case w.tasks <- task:
	default:
		w.live.Add(1)
		go w.work(task)
	}
}

func (w *workers) work(task func()) {
	defer w.live.Add(-1)
	idle := time.NewTimer(w.idle)
	defer idle.Stop()
	for {
		task()
		idle.Reset(w.idle)
		select {
		case task = <-w.tasks:
		case <-idle.C:
			return
		}
	}
}

// group runs functions on workers, at most limit at once, and waits for
// them all: errgroup.Group with SetLimit, on goroutines that are reused.
type group struct {
	w     *workers
	slots chan struct{}
	wg    sync.WaitGroup
	once  sync.Once
	err   error
}

func newGroup(w *workers, limit int) *group {
	return &group{w: w, slots: make(chan struct{}, limit)}
}

// Go runs fn once fewer than limit of the group's functions are running.
func (g *group) Go(fn func() error) {
	g.slots <- struct{}{}
	g.wg.Add(1)
	g.w.run(func() {
		defer func() { <-g.slots; g.wg.Done() }()
		if err := fn(); err != nil {
			g.once.Do(func() { g.err = err })
		}
	})
}

// Wait returns the first error of the group's functions once all are done.
func (g *group) Wait() error {
	g.wg.Wait()
	return g.err
}
