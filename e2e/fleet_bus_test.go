package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/stretchr/testify/require"
)

func busClient(t *testing.T, conn string) *azservicebus.Client {
	t.Helper()
	client, err := azservicebus.NewClientFromConnectionString(conn, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close(context.Background()) })
	return client
}

var receiveAndDelete = azservicebus.ReceiveModeReceiveAndDelete

// drainSubscription receives every message of a subscription until want
// arrived and then nothing more for two seconds; it counts each message id.
func drainSubscription(t *testing.T, ctx context.Context, client *azservicebus.Client, sub string, want int) map[string]int {
	t.Helper()
	recv, err := client.NewReceiverForSubscription("order-events", sub, &azservicebus.ReceiverOptions{ReceiveMode: receiveAndDelete})
	require.NoError(t, err)
	defer recv.Close(ctx)
	got := map[string]int{}
	n := 0
	for {
		wait := 2 * time.Second
		if n < want {
			wait = 30 * time.Second // the publisher may still be catching up
		}
		rctx, cancel := context.WithTimeout(ctx, wait)
		msgs, err := recv.ReceiveMessages(rctx, 500, nil)
		cancel()
		if len(msgs) == 0 {
			return got
		}
		require.NoError(t, err)
		for _, m := range msgs {
			got[m.MessageID]++
			n++
		}
	}
}

// drainSessions reads the session subscription, one session per order,
// from 16 receivers at once.
func drainSessions(t *testing.T, ctx context.Context, client *azservicebus.Client, events map[string][]storedEvent) map[string]int {
	t.Helper()
	var mu sync.Mutex
	got := map[string]int{}
	ids := make(chan string)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ids {
				for mid, k := range drainSession(t, ctx, client, id, len(events[id])) {
					mu.Lock()
					got[mid] += k
					mu.Unlock()
				}
			}
		}()
	}
	for id := range events {
		ids <- id
	}
	close(ids)
	wg.Wait()
	return got
}

// drainSession receives one order's session until want messages arrived
// and then nothing more for 100 ms.
func drainSession(t *testing.T, ctx context.Context, client *azservicebus.Client, id string, want int) map[string]int {
	recv, err := client.AcceptSessionForSubscription(ctx, "order-events", "audit", id, &azservicebus.SessionReceiverOptions{ReceiveMode: receiveAndDelete})
	if err != nil {
		t.Errorf("accept session %s: %v", id, err)
		return nil
	}
	defer recv.Close(ctx)
	got := map[string]int{}
	n := 0
	for {
		wait := 100 * time.Millisecond
		if n < want {
			wait = 30 * time.Second
		}
		rctx, cancel := context.WithTimeout(ctx, wait)
		msgs, _ := recv.ReceiveMessages(rctx, 50, nil)
		cancel()
		if len(msgs) == 0 {
			return got
		}
		for _, m := range msgs {
			got[m.MessageID]++
			n++
		}
	}
}
