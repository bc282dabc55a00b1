package eventbus_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/servicebus/sbemu"
	"github.com/ordersflow/orderpipeline/internal/testutil"
	"github.com/ordersflow/orderpipeline/shared/eventbus"
	"github.com/ordersflow/orderpipeline/shared/order"
)

func events(orderID string, n int) []order.Event {
	types := []order.EventType{order.OrderPlaced, order.TaxApplied, order.PaymentCaptured, order.OrderFulfilled}
	out := make([]order.Event, n)
	for i := range out {
		out[i] = order.Event{ID: order.EventID(orderID, types[i]), OrderID: orderID, Kind: order.KindEvent, Seq: i + 1,
			Type: types[i], At: time.Date(2026, 11, 23, 12, 0, i, 0, time.UTC), CorrelationID: "corr-" + orderID,
			Data: json.RawMessage(`{"n":` + string(rune('0'+i)) + `}`)}
	}
	return out
}

func TestMessageCarriesTheContract(t *testing.T) {
	ev := events("ord_1", 2)[1]
	m, err := eventbus.Message(ev)
	require.NoError(t, err)
	assert.Equal(t, "ord_1:TaxApplied", *m.MessageID)
	assert.Equal(t, "ord_1", *m.SessionID)
	assert.Equal(t, "TaxApplied", *m.Subject)
	assert.Equal(t, "corr-ord_1", *m.CorrelationID)
	assert.Equal(t, "application/json", *m.ContentType)
	assert.Equal(t, map[string]any{"eventType": "TaxApplied", "orderId": "ord_1", "seq": int64(2)}, m.ApplicationProperties)
	var ce map[string]any
	require.NoError(t, json.Unmarshal(m.Body, &ce))
	assert.Equal(t, "1.0", ce["specversion"])
	assert.Equal(t, "ord_1:TaxApplied", ce["id"])
	assert.Equal(t, "orderpipeline.TaxApplied", ce["type"])
	assert.Equal(t, eventbus.Source, ce["source"])
	assert.Equal(t, "ord_1", ce["subject"])
	assert.Equal(t, map[string]any{"n": 1.0}, ce["data"])
}

func TestMessageCarriesTheTraceContext(t *testing.T) {
	ev := events("ord_1", 1)[0]
	ev.TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	m, err := eventbus.Message(ev)
	require.NoError(t, err)
	assert.Equal(t, ev.TraceParent, m.ApplicationProperties["traceparent"])
	assert.Equal(t, ev.TraceParent, m.ApplicationProperties["Diagnostic-Id"])
}

// TestPublishThroughTheEmulator publishes twice (a redelivery) and reads the
// topic's session subscription: each event once, in order, per order.
func TestPublishThroughTheEmulator(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	root := testutil.RepoRoot(t)
	emu, err := sbemu.Start(ctx, root, filepath.Join(root, "emulators/servicebus/config/orderpipeline.json"), os.Stderr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = emu.Stop() })

	client, err := azservicebus.NewClientFromConnectionString(emu.ConnectionString(), nil)
	require.NoError(t, err)
	defer client.Close(ctx)
	sender, err := client.NewSender("order-events", nil)
	require.NoError(t, err)
	pub, err := eventbus.New(sender)
	require.NoError(t, err)

	batch := append(events("ord_a", 4), events("ord_b", 3)...)
	require.NoError(t, pub.Publish(ctx, batch))
	require.NoError(t, pub.Publish(ctx, batch[2:]), "a redelivered batch")

	huge := events("ord_c", 1)
	huge[0].Data = json.RawMessage(`"` + strings.Repeat("x", 4<<20) + `"`)
	assert.ErrorIs(t, pub.Publish(ctx, huge), order.ErrPermanent, "an event larger than a message is never sent")

	for _, id := range []string{"ord_a", "ord_b"} {
		recv, err := client.AcceptSessionForSubscription(ctx, "order-events", "audit", id, nil)
		require.NoError(t, err)
		var seqs []int64
		for {
			rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
			msgs, err := recv.ReceiveMessages(rctx, 10, nil)
			rcancel()
			if len(msgs) == 0 || err != nil {
				break
			}
			for _, m := range msgs {
				seqs = append(seqs, m.ApplicationProperties["seq"].(int64))
				assert.Equal(t, id, *m.SessionID)
				require.NoError(t, recv.CompleteMessage(ctx, m, nil))
			}
		}
		want := map[string][]int64{"ord_a": {1, 2, 3, 4}, "ord_b": {1, 2, 3}}[id]
		assert.Equal(t, want, seqs, "each event once, in seq order")
		require.NoError(t, recv.Close(ctx))
	}
}

// downSender fails every call, as a broker that can't be reached does.
type downSender struct{}

func (downSender) NewMessageBatch(context.Context, *azservicebus.MessageBatchOptions) (*azservicebus.MessageBatch, error) {
	return nil, errors.New("dial tcp: connection refused")
}

func (downSender) SendMessageBatch(context.Context, *azservicebus.MessageBatch, *azservicebus.SendMessageBatchOptions) error {
	return errors.New("dial tcp: connection refused")
}

func TestABrokerThatCantBeReachedIsUnavailable(t *testing.T) {
	pub, err := eventbus.New(downSender{})
	require.NoError(t, err)
	err = pub.Publish(context.Background(), events("ord_1", 1))
	assert.ErrorIs(t, err, order.ErrUnavailable)
	assert.NotErrorIs(t, err, order.ErrPermanent)
	_, err = eventbus.New(nil)
	assert.Error(t, err)
}
