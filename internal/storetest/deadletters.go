package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/shared/deadletter"
	"github.com/ordersflow/orderpipeline/shared/order"
)

// DeadLetters is the dead-letter store.
type DeadLetters interface {
	PutDeadLetter(ctx context.Context, d deadletter.DeadLetter) error
	DeadLetter(ctx context.Context, id string) (deadletter.DeadLetter, error)
	DeadLetters(ctx context.Context) ([]deadletter.DeadLetter, error)
	DeleteDeadLetter(ctx context.Context, id string) error
}

// TestDeadLetters runs the dead-letter contract; newStore returns the store
// under test for one subtest.
func TestDeadLetters(t *testing.T, newStore func(t *testing.T) DeadLetters) {
	cases := []struct {
		name string
		run  func(t *testing.T, s DeadLetters)
	}{
		{"a dead letter reads back", deadLetterReadsBack},
		{"recording twice keeps one, refreshed", recordingTwiceKeepsOne},
		{"the list is oldest first", listIsOldestFirst},
		{"a deleted dead letter is gone", deletedIsGone},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t)) })
	}
}

func newDeadLetter(at time.Time) deadletter.DeadLetter {
	doc := unique("doc_")
	return deadletter.DeadLetter{ID: deadletter.ID("ApplyTax", doc), Function: "ApplyTax", DocumentID: doc,
		OrderID: "ord_x", Document: json.RawMessage(`{"id":"` + doc + `","n":1}`), Error: "boom",
		Transient: true, RetryCount: 5, InvocationID: "inv-1", At: at.UTC().Truncate(time.Millisecond)}
}

// listed returns the ids of the listed dead letters in list order.
func listed(t *testing.T, s DeadLetters) []string {
	t.Helper()
	all, err := s.DeadLetters(context.Background())
	require.NoError(t, err)
	ids := make([]string, len(all))
	for i, d := range all {
		ids[i] = d.ID
	}
	return ids
}

func deadLetterReadsBack(t *testing.T, s DeadLetters) {
	d := newDeadLetter(time.Now())
	require.NoError(t, s.PutDeadLetter(context.Background(), d))
	got, err := s.DeadLetter(context.Background(), d.ID)
	require.NoError(t, err)
	assert.JSONEq(t, string(d.Document), string(got.Document))
	assert.True(t, d.At.Equal(got.At))
	got.Document, got.At = d.Document, d.At
	assert.Equal(t, d, got)
	assert.Contains(t, listed(t, s), d.ID)
}

func recordingTwiceKeepsOne(t *testing.T, s DeadLetters) {
	ctx := context.Background()
	d := newDeadLetter(time.Now())
	require.NoError(t, s.PutDeadLetter(ctx, d))
	d.Error, d.RetryCount = "boom again", 6
	require.NoError(t, s.PutDeadLetter(ctx, d))
	got, err := s.DeadLetter(ctx, d.ID)
	require.NoError(t, err)
	assert.Equal(t, "boom again", got.Error)
	assert.Equal(t, 6, got.RetryCount)
	n := 0
	for _, id := range listed(t, s) {
		if id == d.ID {
			n++
		}
	}
	assert.Equal(t, 1, n)
}

func listIsOldestFirst(t *testing.T, s DeadLetters) {
	ctx := context.Background()
	now := time.Now()
	newer, older := newDeadLetter(now), newDeadLetter(now.Add(-time.Hour))
	require.NoError(t, s.PutDeadLetter(ctx, newer))
	require.NoError(t, s.PutDeadLetter(ctx, older))
	ids := listed(t, s)
	pos := map[string]int{}
	for i, id := range ids {
		pos[id] = i
	}
	require.Contains(t, pos, older.ID)
	require.Contains(t, pos, newer.ID)
	assert.Less(t, pos[older.ID], pos[newer.ID])
}

func deletedIsGone(t *testing.T, s DeadLetters) {
	ctx := context.Background()
	d := newDeadLetter(time.Now())
	require.NoError(t, s.PutDeadLetter(ctx, d))
	require.NoError(t, s.DeleteDeadLetter(ctx, d.ID))
	_, err := s.DeadLetter(ctx, d.ID)
	assert.ErrorIs(t, err, order.ErrNotFound)
	assert.NotContains(t, listed(t, s), d.ID)
	assert.ErrorIs(t, s.DeleteDeadLetter(ctx, d.ID), order.ErrNotFound, "deleting what isn't there")
}
