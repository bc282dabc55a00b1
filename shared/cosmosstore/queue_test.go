package cosmosstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a reserveFunc that keeps every group it is given and answers
// each line with an error naming it; the first call waits for release.
type recorder struct {
	mu      sync.Mutex
	groups  [][]reservation
	calls   atomic.Int32
	entered chan struct{}
	release chan struct{}
}

func newRecorder() *recorder {
	return &recorder{entered: make(chan struct{}), release: make(chan struct{})}
}

func (rc *recorder) run(_ context.Context, rs []reservation) []error {
	if rc.calls.Add(1) == 1 {
		close(rc.entered)
		<-rc.release
	}
	rc.mu.Lock()
	rc.groups = append(rc.groups, rs)
	rc.mu.Unlock()
	errs := make([]error, len(rs))
	for i, r := range rs {
		errs[i] = errors.New(r.orderID)
	}
	return errs
}

func (q *reserveQueue) queued(sku string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	if l := q.skus[sku]; l != nil {
		return len(l.waiting)
	}
	return 0
}

// TestQueueGroupsLinesThatArriveDuringABatch: while the first line's batch
// is in flight, 70 more lines of its SKU queue; they go out in two batches
// (64, the most one holds, then 6), and every line gets its own answer.
// A line of another SKU is not held up by them.
func TestQueueGroupsLinesThatArriveDuringABatch(t *testing.T) {
	var q reserveQueue
	rc := newRecorder()
	ctx := context.Background()
	results := make(chan [2]string, 71)
	reserve := func(id, sku string) {
		err := q.reserve(ctx, reservation{orderID: id, sku: sku, qty: 1}, rc.run)
		results <- [2]string{id, err.Error()}
	}
	go reserve("first", "A")
	<-rc.entered
	for i := range 70 {
		go reserve(fmt.Sprint("o", i), "A")
	}
	require.Eventually(t, func() bool { return q.queued("A") == 70 }, 10*time.Second, time.Millisecond)

	other := q.reserve(ctx, reservation{orderID: "other", sku: "B", qty: 1}, rc.run)
	assert.EqualError(t, other, "other", "another SKU goes at once")

	close(rc.release)
	for range 71 {
		r := <-results
		assert.Equal(t, r[0], r[1], "each line gets its own answer")
	}
	var sizes []int
	for _, g := range rc.groups {
		if g[0].sku == "A" {
			sizes = append(sizes, len(g))
		}
	}
	assert.Equal(t, []int{1, maxReservationsPerBatch, 70 - maxReservationsPerBatch}, sizes)
	assert.Zero(t, q.queued("A"))
	q.mu.Lock()
	assert.Empty(t, q.skus, "an idle SKU is forgotten")
	q.mu.Unlock()
}

// TestQueueBatchOutlivesItsLeadersContext: a batch that serves several
// lines is not cancelled when the caller of the line that leads it gives up.
func TestQueueBatchOutlivesItsLeadersContext(t *testing.T) {
	var q reserveQueue
	rc := newRecorder()
	done := make(chan error, 2)
	go func() { done <- q.reserve(context.Background(), reservation{orderID: "first", sku: "A"}, rc.run) }()
	<-rc.entered
	leader, cancel := context.WithCancel(context.Background())
	var seen context.Context
	run := func(ctx context.Context, rs []reservation) []error {
		seen = ctx
		return rc.run(ctx, rs)
	}
	go func() { done <- q.reserve(leader, reservation{orderID: "second", sku: "A"}, run) }()
	require.Eventually(t, func() bool { return q.queued("A") == 1 }, 10*time.Second, time.Millisecond)
	go func() { done <- q.reserve(context.Background(), reservation{orderID: "third", sku: "A"}, run) }()
	require.Eventually(t, func() bool { return q.queued("A") == 2 }, 10*time.Second, time.Millisecond)
	cancel()
	close(rc.release)
	for range 3 {
		<-done
	}
	require.NotNil(t, seen)
	assert.NoError(t, seen.Err(), "the group's batch runs on although its leader's caller is gone")
}
