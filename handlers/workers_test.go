package handlers

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
)

// deadline bounds every wait of these tests, so that a broken pool fails
// them instead of hanging them.
const deadline = 10 * time.Second

func TestGroupRunsAtMostLimitAtOnce(t *testing.T) {
	const limit, n = 3, 12
	g := newGroup(newWorkers(time.Minute), limit)
	var running, most atomic.Int64
	started, release := make(chan struct{}), make(chan struct{})
	go func() {
		for range n {
			g.Go(func() error {
				now := running.Add(1)
				for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
				}
				started <- struct{}{}
				<-release
				running.Add(-1)
				return nil
			})
		}
	}()
	for i := range n {
		select {
		case <-started:
		case <-time.After(deadline):
			t.Fatalf("only %d of %d functions started", i, n)
		}
		if i >= limit-1 { // limit are running: let one go, so the next can start
			release <- struct{}{}
		}
	}
	for range limit - 1 {
		release <- struct{}{}
	}
	require.NoError(t, g.Wait())
	assert.Equal(t, int64(limit), most.Load(), "limit at once, and no more")
}

func TestGroupWaitsForAllAndReturnsTheFirstError(t *testing.T) {
	g := newGroup(newWorkers(time.Minute), 4)
	failed := errors.New("failed")
	returned := make(chan struct{})
	var done atomic.Int64
	g.Go(func() error { defer close(returned); return failed })
	for range 5 {
		g.Go(func() error { <-returned; done.Add(1); return nil })
	}
	assert.Same(t, failed, g.Wait())
	assert.Equal(t, int64(5), done.Load(), "Wait returns when every function is done")

	one := newGroup(newWorkers(time.Minute), 1) // one at a time: in the order given
	first, second := errors.New("first"), errors.New("second")
	one.Go(func() error { return first })
	one.Go(func() error { return second })
	assert.Same(t, first, one.Wait())
}

func TestAnIdleWorkerTakesTheNextTask(t *testing.T) {
	w := newWorkers(time.Minute)
	ran := make(chan struct{})
	w.run(func() { ran <- struct{}{} })
	<-ran
	select { // only a worker receives from tasks
	case w.tasks <- func() { ran <- struct{}{} }:
	case <-time.After(deadline):
		t.Fatal("the worker did not wait for another task")
	}
	<-ran
	assert.Equal(t, int64(1), w.live.Load(), "one worker ran both")
}

func TestIdleWorkersExit(t *testing.T) {
	w := newWorkers(time.Millisecond)
	g := newGroup(w, 8)
	for range 8 {
		g.Go(func() error { return nil })
	}
	require.NoError(t, g.Wait())
	require.Eventually(t, func() bool { return w.live.Load() == 0 }, deadline, time.Millisecond)
}

// deepCall stands for a stream's call path: n frames of a few hundred
// bytes each, as the SDK's policy pipeline and net/http stack up.
//
//go:noinline
func deepCall(n int) int {
	var frame [300]byte
	frame[n%len(frame)] = byte(n)
	if n == 0 {
		return 0
	}
	return deepCall(n-1) + int(frame[n%len(frame)])
}

// BenchmarkStreamGoroutines runs a batch of 12 streams of deep calls on
// new goroutines (errgroup) and on the pool's workers.
func BenchmarkStreamGoroutines(b *testing.B) {
	const streams, frames = 12, 80
	b.Run("errgroup", func(b *testing.B) {
		for b.Loop() {
			var g errgroup.Group
			g.SetLimit(DefaultStageConcurrency)
			for range streams {
				g.Go(func() error { deepCall(frames); return nil })
			}
			_ = g.Wait()
		}
	})
	b.Run("workers", func(b *testing.B) {
		w := newWorkers(time.Minute)
		for b.Loop() {
			g := newGroup(w, DefaultStageConcurrency)
			for range streams {
				g.Go(func() error { deepCall(frames); return nil })
			}
			_ = g.Wait()
		}
	})
}
