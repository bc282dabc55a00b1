package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type event struct {
	ID      string `json:"id"`
	OrderID string `json:"orderId"`
}

// TestKill9KeepsAcknowledgedWrites writes from many clients, kills the
// emulator with SIGKILL mid-stream, restarts it on the same directory and
// checks that every acknowledged write is there, that every batch is all
// or nothing, and that a change feed continuation taken before the crash
// still resumes exactly where it left off.
func TestKill9KeepsAcknowledgedWrites(t *testing.T) {
	dir := t.TempDir()
	first := startChild(t, "-addr", "127.0.0.1:0", "-data", dir)
	c := createContainer(t, first.client(t))

	before := writeSequential(t, c, 20)
	token, seen := drainFeed(t, c, "")
	require.ElementsMatch(t, before, seen)

	acked, attempted := writeUntilKilled(t, c, first)
	require.NotEmpty(t, acked)

	second := startChild(t, "-addr", "127.0.0.1:0", "-data", dir)
	c = container(t, second.client(t))
	for _, id := range append(before, acked...) {
		assert.True(t, exists(t, c, id), "acknowledged write %s survives", id)
	}
	for _, pair := range attempted {
		assert.Equal(t, exists(t, c, pair[0]), exists(t, c, pair[1]), "batch %v is all or nothing", pair)
	}

	token, after := drainFeed(t, c, token)
	assert.Subset(t, after, acked, "the continuation from before the crash yields every later acknowledged write")
	assert.NotContains(t, after, before[0], "and nothing read before the crash")

	_, err := c.CreateItem(testCtx(t), azcosmos.NewPartitionKeyString("new"), mustJSON(t, event{ID: "post-restart", OrderID: "new"}), nil)
	require.NoError(t, err)
	_, latest := drainFeed(t, c, token)
	assert.Equal(t, []string{"post-restart"}, latest, "LSNs keep increasing after a restart")
}

func createContainer(t *testing.T, client *azcosmos.Client) *azcosmos.ContainerClient {
	t.Helper()
	ctx := testCtx(t)
	_, err := client.CreateDatabase(ctx, azcosmos.DatabaseProperties{ID: "crash"}, nil)
	require.NoError(t, err)
	db, err := client.NewDatabase("crash")
	require.NoError(t, err)
	props := azcosmos.ContainerProperties{ID: "events", PartitionKeyDefinition: azcosmos.PartitionKeyDefinition{Paths: []string{"/orderId"}}}
	_, err = db.CreateContainer(ctx, props, nil)
	require.NoError(t, err)
	return container(t, client)
}

func container(t *testing.T, client *azcosmos.Client) *azcosmos.ContainerClient {
	t.Helper()
	c, err := client.NewContainer("crash", "events")
	require.NoError(t, err)
	return c
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func writeSequential(t *testing.T, c *azcosmos.ContainerClient, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		id := fmt.Sprint("before-", i)
		_, err := c.CreateItem(testCtx(t), azcosmos.NewPartitionKeyString("o-before"), mustJSON(t, event{ID: id, OrderID: "o-before"}), nil)
		require.NoError(t, err)
		ids = append(ids, id)
	}
	return ids
}

// writeUntilKilled runs 8 writers of two-item batches and kills the
// emulator once 300 batches are acknowledged. It returns the acknowledged
// ids and every attempted pair.
func writeUntilKilled(t *testing.T, c *azcosmos.ContainerClient, victim *child) (acked []string, attempted [][2]string) {
	var mu sync.Mutex
	var count atomic.Int32
	var once sync.Once
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for n := 0; ; n++ {
				order := fmt.Sprintf("o-%d-%d", w, n)
				pair := [2]string{order + "-a", order + "-b"}
				mu.Lock()
				attempted = append(attempted, pair)
				mu.Unlock()
				if !writePair(c, order, pair) {
					return
				}
				mu.Lock()
				acked = append(acked, pair[0], pair[1])
				mu.Unlock()
				if count.Add(1) == 300 {
					once.Do(victim.kill)
				}
			}
		})
	}
	wg.Wait()
	return acked, attempted
}

func writePair(c *azcosmos.ContainerClient, order string, pair [2]string) bool {
	b := c.NewTransactionalBatch(azcosmos.NewPartitionKeyString(order))
	for _, id := range pair {
		body, _ := json.Marshal(event{ID: id, OrderID: order})
		b.CreateItem(body, nil)
	}
	// The writes race the kill: bound the SDK's retries against a dead endpoint.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := c.ExecuteTransactionalBatch(ctx, b, nil)
	return err == nil && resp.Success
}

func exists(t *testing.T, c *azcosmos.ContainerClient, id string) bool {
	t.Helper()
	order := "o-before"
	if len(id) > 2 && id[:2] == "o-" {
		order = id[:len(id)-2]
	}
	_, err := c.ReadItem(testCtx(t), azcosmos.NewPartitionKeyString(order), id, nil)
	var re *azcore.ResponseError
	if err != nil && assert.ErrorAs(t, err, &re) {
		assert.Equal(t, http.StatusNotFound, re.StatusCode)
		return false
	}
	return err == nil
}

// drainFeed reads the whole change feed from token ("" = the beginning)
// and returns the new continuation and the ids read.
func drainFeed(t *testing.T, c *azcosmos.ContainerClient, token string) (string, []string) {
	t.Helper()
	ranges, err := c.ReadFeedRanges(testCtx(t), nil)
	require.NoError(t, err)
	require.Len(t, ranges, 1)
	var ids []string
	for {
		opts := &azcosmos.ChangeFeedOptions{FeedRange: &ranges[0], MaxItemCount: 100}
		if token != "" {
			opts.Continuation = &token
		}
		resp, err := c.ReadChangeFeed(testCtx(t), opts)
		require.NoError(t, err)
		token = resp.ContinuationToken
		if len(resp.Items) == 0 {
			return token, ids
		}
		for _, raw := range resp.Items {
			var e event
			require.NoError(t, json.Unmarshal(raw, &e))
			ids = append(ids, e.ID)
		}
	}
}
