package e2e

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
	"github.com/ordersflow/orderpipeline/emulators/devstack"
)

// lockedBuffer collects a host's console output.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

var publishedLine = regexp.MustCompile(`PublishEvents: (\d+) events published`)

// published sums the events the host's PublishEvents invocations reported.
func (b *lockedBuffer) published() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, m := range publishedLine.FindAllStringSubmatch(b.buf.String(), -1) {
		k, _ := strconv.Atoi(m[1])
		n += k
	}
	return n
}

// TestEventsReachASessionReceiverOnceInOrder places orders, then forces
// PublishEvents to publish every event again (its change feed leases are
// deleted and the stack restarted on the same data), and reads the topic's
// session subscription: each order's events exactly once, in seq order,
// with the message properties of the contract.
func TestEventsReachASessionReceiverOnceInOrder(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bus := startBus(t)
	data := t.TempDir()

	console := &lockedBuffer{}
	st := startStack(t, devstack.Options{DataDir: data, ServiceBus: bus.ConnectionString(), Console: console})
	c := newClient(st.URL())
	want := map[string]orderBody{}
	total := 0
	for i, token := range []string{"tok_visa", "tok_declined", "tok_visa"} {
		id := c.mustPlace(t, token, "COFFEE-1KG", i+1)
		want[id] = c.waitTerminal(t, id, 30*time.Second)
		total += len(want[id].Events)
	}
	require.Eventually(t, func() bool { return console.published() >= total }, 30*time.Second, 20*time.Millisecond)
	require.NoError(t, st.Close())

	deleteLeases(t, filepath.Join(data, "cosmos"), "publish-")
	again := &lockedBuffer{}
	startStack(t, devstack.Options{DataDir: data, ServiceBus: bus.ConnectionString(), Console: again})
	require.Eventually(t, func() bool { return again.published() >= total }, 30*time.Second, 20*time.Millisecond,
		"PublishEvents publishes every event a second time")

	client, err := azservicebus.NewClientFromConnectionString(bus.ConnectionString(), nil)
	require.NoError(t, err)
	defer client.Close(ctx)
	for id, o := range want {
		msgs := receiveSession(t, ctx, client, id)
		require.Len(t, msgs, len(o.Events), "order %s: each event exactly once", id)
		for i, m := range msgs {
			e := o.Events[i]
			assert.Equal(t, e.ID, m.MessageID)
			assert.Equal(t, e.Type, *m.Subject)
			assert.Equal(t, id, *m.SessionID)
			assert.Equal(t, "application/json", *m.ContentType)
			assert.NotEmpty(t, *m.CorrelationID)
			assert.Equal(t, map[string]any{"eventType": e.Type, "orderId": id, "seq": int64(e.Seq)}, m.ApplicationProperties)
		}
	}
}

func receiveSession(t *testing.T, ctx context.Context, client *azservicebus.Client, sessionID string) []*azservicebus.ReceivedMessage {
	t.Helper()
	recv, err := client.AcceptSessionForSubscription(ctx, "order-events", "audit", sessionID, nil)
	require.NoError(t, err)
	defer recv.Close(ctx)
	var out []*azservicebus.ReceivedMessage
	for {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		msgs, err := recv.ReceiveMessages(rctx, 20, nil)
		cancel()
		if err != nil || len(msgs) == 0 {
			return out
		}
		for _, m := range msgs {
			require.NoError(t, recv.CompleteMessage(ctx, m, nil))
		}
		out = append(out, msgs...)
	}
}

// deleteLeases opens the stopped stack's Cosmos data and removes the leases
// of one function (by lease prefix), so its listener starts again from the
// beginning: every document is delivered to it a second time.
func deleteLeases(t *testing.T, dir, prefix string) {
	t.Helper()
	srv, err := cosmos.Start(cosmos.Options{DataDir: dir})
	require.NoError(t, err)
	defer srv.Close()
	client, err := azcosmos.NewClientFromConnectionString(srv.ConnectionString(), nil)
	require.NoError(t, err)
	leases, err := client.NewContainer("commerce", "leases")
	require.NoError(t, err)
	pager := leases.NewQueryItemsPager("SELECT c.id FROM c WHERE STARTSWITH(c.id, @prefix)", azcosmos.NewPartitionKey(),
		&azcosmos.QueryOptions{QueryParameters: []azcosmos.QueryParameter{{Name: "@prefix", Value: prefix}}})
	deleted := 0
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		require.NoError(t, err)
		for _, raw := range page.Items {
			id := string(regexp.MustCompile(`"id":"([^"]+)"`).FindSubmatch(raw)[1])
			_, err := leases.DeleteItem(context.Background(), azcosmos.NewPartitionKeyString(id), id, nil)
			require.NoError(t, err, fmt.Sprintf("delete lease %s", id))
			deleted++
		}
	}
	require.Positive(t, deleted)
}
