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

// quick returns a batch 20 ms after its first message instead of the 1 s
// azservicebus waits in receive-and-delete mode.
var quick = &azservicebus.ReceiveMessagesOptions{TimeAfterFirstMessage: 20 * time.Millisecond}

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
		msgs, err := recv.ReceiveMessages(rctx, 500, quick)
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
// from 32 receivers at once, each until its order's events arrived; then
// it takes every session that still has messages (a duplicate would
// leave one behind) until none is left.
func drainSessions(t *testing.T, ctx context.Context, client *azservicebus.Client, events map[string][]storedEvent) map[string]int {
	t.Helper()
	var mu sync.Mutex
	got := map[string]int{}
	add := func(m map[string]int) {
		mu.Lock()
		defer mu.Unlock()
		for id, k := range m {
			got[id] += k
		}
	}
	ids := make(chan string)
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ids {
				recv, err := client.AcceptSessionForSubscription(ctx, "order-events", "audit", id, &azservicebus.SessionReceiverOptions{ReceiveMode: receiveAndDelete})
				if err != nil {
					t.Errorf("accept session %s: %v", id, err)
					continue
				}
				add(drainSession(ctx, recv, len(events[id])))
			}
		}()
	}
	for id := range events {
		ids <- id
	}
	close(ids)
	wg.Wait()
	for {
		actx, cancel := context.WithTimeout(ctx, 3*time.Second)
		recv, err := client.AcceptNextSessionForSubscription(actx, "order-events", "audit", &azservicebus.SessionReceiverOptions{ReceiveMode: receiveAndDelete})
		cancel()
		if err != nil {
			return got // no session has messages left
		}
		left := drainSession(ctx, recv, 0)
		if len(left) == 0 {
			return got // an empty session: nothing left anywhere
		}
		add(left)
	}
}

// drainSession receives from a session until want messages arrived, or
// (want 0) until it is empty, and closes it.
func drainSession(ctx context.Context, recv *azservicebus.SessionReceiver, want int) map[string]int {
	defer recv.Close(ctx)
	got := map[string]int{}
	for n := 0; want == 0 || n < want; {
		wait := 30 * time.Second
		if want == 0 {
			wait = time.Second
		}
		rctx, cancel := context.WithTimeout(ctx, wait)
		msgs, _ := recv.ReceiveMessages(rctx, 50, quick)
		cancel()
		if len(msgs) == 0 {
			break
		}
		for _, m := range msgs {
			got[m.MessageID]++
			n++
		}
	}
	return got
}
