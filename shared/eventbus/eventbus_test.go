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

// startEmulator runs the Service Bus emulator on the pipeline's config and
// returns a client of it.
func startEmulator(t *testing.T, ctx context.Context) (*sbemu.Emulator, *azservicebus.Client) {
	t.Helper()
	root := testutil.RepoRoot(t)
	emu, err := sbemu.Start(ctx, root, filepath.Join(root, "emulators/servicebus/config/orderpipeline.json"), os.Stderr,
		sbemu.WithFaultControl())
	require.NoError(t, err)
	t.Cleanup(func() { _ = emu.Stop() })
	client, err := azservicebus.NewClientFromConnectionString(emu.ConnectionString(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close(context.Background()) })
	return emu, client
}

// countingSender counts the batches sent through it, makes batches of at
// most maxBytes (when set), and fails send number failAt (when set).
type countingSender struct {
	*azservicebus.Sender
	maxBytes uint64
	sends    int
	failAt   int
}

func (c *countingSender) NewMessageBatch(ctx context.Context, _ *azservicebus.MessageBatchOptions) (*azservicebus.MessageBatch, error) {
	return c.Sender.NewMessageBatch(ctx, &azservicebus.MessageBatchOptions{MaxBytes: c.maxBytes})
}

func (c *countingSender) SendMessageBatch(ctx context.Context, b *azservicebus.MessageBatch, o *azservicebus.SendMessageBatchOptions) error {
	c.sends++
	if c.sends == c.failAt {
		return errors.New("amqp: link detached")
	}
	return c.Sender.SendMessageBatch(ctx, b, o)
}

func newCountingSender(t *testing.T, client *azservicebus.Client) *countingSender {
	t.Helper()
	sender, err := client.NewSender("order-events", nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sender.Close(context.Background()) })
	return &countingSender{Sender: sender}
}

// sessionSeqs receives the audit subscription's session id to the end and
// returns the seq of each message, in the order received.
func sessionSeqs(t *testing.T, ctx context.Context, client *azservicebus.Client, id string) []int64 {
	t.Helper()
	recv, err := client.AcceptSessionForSubscription(ctx, "order-events", "audit", id, nil)
	require.NoError(t, err)
	defer recv.Close(ctx)
	var seqs []int64
	for {
		rctx, rcancel := context.WithTimeout(ctx, time.Second)
		msgs, err := recv.ReceiveMessages(rctx, 10, nil)
		rcancel()
		if len(msgs) == 0 || err != nil {
			return seqs
		}
		for _, m := range msgs {
			seqs = append(seqs, m.ApplicationProperties["seq"].(int64))
			assert.Equal(t, id, *m.SessionID)
			require.NoError(t, recv.CompleteMessage(ctx, m, nil))
		}
	}
}

// TestPublishThroughTheEmulator publishes three orders in one call, then
// again (a redelivery), and reads the topic's session subscription: each
// event once, in order, per order; one order's event that is too large
// costs only that order.
func TestPublishThroughTheEmulator(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, client := startEmulator(t, ctx)
	sender := newCountingSender(t, client)
	pub, err := eventbus.New(sender)
	require.NoError(t, err)

	huge := events("ord_c", 2)
	huge[1].Data = json.RawMessage(`"` + strings.Repeat("x", 4<<20) + `"`)
	orders := [][]order.Event{events("ord_a", 4), huge, events("ord_b", 3)}
	res := pub.Publish(ctx, orders)
	require.Len(t, res, 3)
	assert.Equal(t, order.Published{Sent: 4}, res[0])
	assert.Equal(t, order.Published{Sent: 3}, res[2])
	assert.ErrorIs(t, res[1].Err, order.ErrPermanent, "an event larger than a message is never sent")
	assert.Equal(t, 2, sender.sends, "one batch, sent before the event too large for any batch")

	sender.sends = 0
	again := pub.Publish(ctx, [][]order.Event{orders[0][2:], orders[2]})
	assert.Equal(t, []order.Published{{Sent: 2}, {Sent: 3}}, again, "a redelivered batch")
	assert.Equal(t, 1, sender.sends, "two orders in one batch")

	assert.Equal(t, []int64{1, 2, 3, 4}, sessionSeqs(t, ctx, client, "ord_a"), "each event once, in seq order")
	assert.Equal(t, []int64{1, 2, 3}, sessionSeqs(t, ctx, client, "ord_b"), "each event once, in seq order")
}

// TestAFailedSendStopsThePublish fills small batches and fails the second
// send: what the first batch held went out, nothing after the failure did,
// and every order not wholly sent is unavailable.
func TestAFailedSendStopsThePublish(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	emu, client := startEmulator(t, ctx)
	sender := newCountingSender(t, client)
	sender.failAt = 2
	pub, err := eventbus.New(sender)
	require.NoError(t, err)
	sender.maxBytes = twoMessages(t, ctx, sender.Sender)

	res := pub.Publish(ctx, [][]order.Event{events("ord_1", 1), events("ord_2", 3), events("ord_3", 2)})
	require.Len(t, res, 3)
	assert.Equal(t, order.Published{Sent: 1}, res[0], "ord_1 went out in the first batch")
	assert.Equal(t, 1, res[1].Sent, "ord_2's first event went out with ord_1")
	assert.Equal(t, 0, res[2].Sent)
	for _, r := range res[1:] {
		assert.ErrorIs(t, r.Err, order.ErrUnavailable)
	}
	assert.Equal(t, 2, sender.sends, "nothing is sent after a failed send")

	stats, err := emu.Entities(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, stats["order-events/Subscriptions/analytics"].Messages, "the first batch only")
}

// twoMessages is a batch size with room for two of the test's messages but
// not three.
func twoMessages(t *testing.T, ctx context.Context, sender *azservicebus.Sender) uint64 {
	t.Helper()
	b, err := sender.NewMessageBatch(ctx, nil)
	require.NoError(t, err)
	var sizes []uint64
	for _, ev := range events("ord_x", 2) {
		m, err := eventbus.Message(ev)
		require.NoError(t, err)
		require.NoError(t, b.AddMessage(m, nil))
		sizes = append(sizes, uint64(b.NumBytes()))
	}
	return sizes[1] + (sizes[1]-sizes[0])/2
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
	res := pub.Publish(context.Background(), [][]order.Event{events("ord_1", 1), events("ord_2", 2)})
	require.Len(t, res, 2)
	for _, r := range res {
		assert.ErrorIs(t, r.Err, order.ErrUnavailable)
		assert.NotErrorIs(t, r.Err, order.ErrPermanent)
		assert.Zero(t, r.Sent)
	}
	_, err = eventbus.New(nil)
	assert.Error(t, err)
}
