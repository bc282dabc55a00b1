package servicebus_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/ordersflow/orderpipeline/emulators/servicebus/sbemu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func subReceiver(t *testing.T, c *azservicebus.Client, topic, sub string, opts *azservicebus.ReceiverOptions) *azservicebus.Receiver {
	t.Helper()
	r, err := c.NewReceiverForSubscription(topic, sub, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	return r
}

func TestTopics(t *testing.T) {
	c := startEmulator(t, "")

	t.Run("fan-out to every subscription, filters apply", func(t *testing.T) {
		send(t, c, "fanout",
			&azservicebus.Message{Body: []byte("blue"), ApplicationProperties: map[string]any{"color": "blue"}},
			&azservicebus.Message{Body: []byte("red"), ApplicationProperties: map[string]any{"color": "red"}},
		)
		for _, sub := range []string{"a", "b"} {
			r := subReceiver(t, c, "fanout", sub, nil)
			got := receiveN(t, r, 2)
			assert.Equal(t, []string{"blue", "red"}, bodies(got), sub)
			for _, m := range got {
				require.NoError(t, r.CompleteMessage(ctxFor(t), m, nil))
			}
		}
		r := subReceiver(t, c, "fanout", "red", nil)
		assert.Equal(t, []string{"red"}, bodies(peekAll(t, r)))
		m := receiveN(t, r, 1)[0]
		require.NoError(t, r.DeadLetterMessage(ctxFor(t), m, &azservicebus.DeadLetterOptions{Reason: to.Ptr("nope")}))
		dlq := subReceiver(t, c, "fanout", "red", &azservicebus.ReceiverOptions{SubQueue: azservicebus.SubQueueDeadLetter})
		d := receiveN(t, dlq, 1)[0]
		assert.Equal(t, "nope", *d.DeadLetterReason)
	})

	t.Run("scheduling on a topic", func(t *testing.T) {
		s, err := c.NewSender("fanout", nil)
		require.NoError(t, err)
		defer s.Close(context.Background())
		seqs, err := s.ScheduleMessages(ctxFor(t), []*azservicebus.Message{msg("cancelled")}, timeIn(3600), nil)
		require.NoError(t, err)
		require.NoError(t, s.CancelScheduledMessages(ctxFor(t), seqs, nil))
		_, err = s.ScheduleMessages(ctxFor(t), []*azservicebus.Message{msg("scheduled")}, timeIn(0.3), nil)
		require.NoError(t, err)
		r := subReceiver(t, c, "fanout", "a", nil)
		m := receiveN(t, r, 1)[0]
		assert.Equal(t, "scheduled", string(m.Body))
		require.NoError(t, r.CompleteMessage(ctxFor(t), m, nil))
	})
}

// TestProjectConfig checks the broker config the app ships with.
func TestProjectConfig(t *testing.T) {
	root, err := sbemu.RepoRoot()
	require.NoError(t, err)
	c := startEmulator(t, filepath.Join(root, "emulators", "servicebus", "config", "orderpipeline.json"))

	event := func(id string) *azservicebus.Message {
		return &azservicebus.Message{
			Body: []byte(`{"type":"OrderPlaced"}`), MessageID: to.Ptr(id), SessionID: to.Ptr("order-1"),
			Subject: to.Ptr("OrderPlaced"), ContentType: to.Ptr("application/json"),
		}
	}
	send(t, c, "order-events", event("order-1:OrderPlaced"), event("order-1:OrderPlaced"), event("order-1:TaxApplied"))

	audit, err := c.AcceptNextSessionForSubscription(ctxFor(t), "order-events", "audit", nil)
	require.NoError(t, err)
	defer audit.Close(context.Background())
	assert.Equal(t, "order-1", audit.SessionID())
	got := receiveN(t, audit, 2)
	assert.Equal(t, "order-1:OrderPlaced", got[0].MessageID)
	assert.Equal(t, "order-1:TaxApplied", got[1].MessageID, "the duplicate was dropped")
	for _, m := range got {
		require.NoError(t, audit.CompleteMessage(ctxFor(t), m, nil))
	}

	s, err := c.NewSender("order-events", nil)
	require.NoError(t, err)
	defer s.Close(context.Background())
	requireCondition(t, s.SendMessage(ctxFor(t), msg("no session id"), nil), "amqp:not-allowed")

	analytics := subReceiver(t, c, "order-events", "analytics", nil)
	got = receiveN(t, analytics, 2)
	assert.Equal(t, "order-1:OrderPlaced", got[0].MessageID)
	assert.Equal(t, "order-1:TaxApplied", got[1].MessageID)
}

func TestForwarding(t *testing.T) {
	c := startEmulator(t, "")
	out := newReceiver(t, c, "forward-out", nil)

	t.Run("ForwardTo moves messages on", func(t *testing.T) {
		send(t, c, "forward-in", msg("forwarded"))
		m := receiveN(t, out, 1)[0]
		assert.Equal(t, "forwarded", string(m.Body))
		require.NoError(t, out.CompleteMessage(ctxFor(t), m, nil))
		assert.Empty(t, peekAll(t, newReceiver(t, c, "forward-in", nil)))
	})

	t.Run("a subscription forwards what its rule lets through", func(t *testing.T) {
		send(t, c, "fanout",
			&azservicebus.Message{Body: []byte("blue"), ApplicationProperties: map[string]any{"color": "blue"}},
			&azservicebus.Message{Body: []byte("green"), ApplicationProperties: map[string]any{"color": "green"}},
		)
		m := receiveN(t, out, 1)[0]
		assert.Equal(t, "blue", string(m.Body))
		require.NoError(t, out.CompleteMessage(ctxFor(t), m, nil))
		assert.Empty(t, peekAll(t, out))
	})

	t.Run("ForwardDeadLetteredMessagesTo moves dead letters on", func(t *testing.T) {
		send(t, c, "forward-dlq", msg("doomed"))
		r := newReceiver(t, c, "forward-dlq", nil)
		m := receiveN(t, r, 1)[0]
		require.NoError(t, r.AbandonMessage(ctxFor(t), m, nil)) // MaxDeliveryCount 1
		d := receiveN(t, out, 1)[0]
		assert.Equal(t, "doomed", string(d.Body))
		assert.Equal(t, "MaxDeliveryCountExceeded", *d.DeadLetterReason)
		require.NotNil(t, d.DeadLetterSource)
		assert.Equal(t, "forward-dlq", *d.DeadLetterSource)
		require.NoError(t, out.CompleteMessage(ctxFor(t), d, nil))
		assert.Empty(t, peekAll(t, dlqReceiver(t, c, "forward-dlq")))
	})
}

func TestFailureCodes(t *testing.T) {
	c := startEmulator(t, "")

	t.Run("sending to an unknown entity is not found", func(t *testing.T) {
		s, err := c.NewSender("no-such-queue", nil)
		require.NoError(t, err)
		defer s.Close(context.Background())
		requireCondition(t, s.SendMessage(ctxFor(t), msg("x"), nil), "amqp:not-found")
	})

	t.Run("receiving from an unknown entity is not found", func(t *testing.T) {
		r := newReceiver(t, c, "no-such-queue", nil)
		_, err := r.ReceiveMessages(ctxFor(t), 1, nil)
		requireCondition(t, err, "amqp:not-found")
		sr := subReceiver(t, c, "fanout", "no-such-sub", nil)
		_, err = sr.ReceiveMessages(ctxFor(t), 1, nil)
		requireCondition(t, err, "amqp:not-found")
		_, err = c.AcceptNextSessionForQueue(ctxFor(t), "no-such-queue", nil)
		requireCondition(t, err, "amqp:not-found")
		dlq := dlqReceiver(t, c, "no-such-queue")
		_, err = dlq.ReceiveMessages(ctxFor(t), 1, nil)
		requireCondition(t, err, "amqp:not-found")
	})

	t.Run("receiving from a topic is refused", func(t *testing.T) {
		r := newReceiver(t, c, "fanout", nil)
		_, err := r.ReceiveMessages(ctxFor(t), 1, nil)
		requireCondition(t, err, "amqp:not-allowed")
	})

	t.Run("settling after the lock expired is lock lost", func(t *testing.T) {
		send(t, c, "short-lock", msg("late"))
		r := newReceiver(t, c, "short-lock", nil)
		m := receiveN(t, r, 1)[0]
		again := receiveN(t, r, 1)[0]
		requireCode(t, r.AbandonMessage(ctxFor(t), m, nil), azservicebus.CodeLockLost)
		require.NoError(t, r.CompleteMessage(ctxFor(t), again, nil))
	})

	t.Run("a session receiver on a queue without sessions is refused", func(t *testing.T) {
		_, err := c.AcceptSessionForQueue(ctxFor(t), "basic", "s", nil)
		requireCondition(t, err, "amqp:not-allowed")
	})

	t.Run("receiving a deferred message that does not exist is not found", func(t *testing.T) {
		r := newReceiver(t, c, "basic", nil)
		_, err := r.ReceiveDeferredMessages(ctxFor(t), []int64{424242}, nil)
		requireCode(t, err, azservicebus.CodeNotFound)
	})
}

// TestMicrosoftConfigFormat runs a config written for Microsoft's emulator,
// with correlation and SQL rules, and checks each subscription's filter.
func TestMicrosoftConfigFormat(t *testing.T) {
	c := startEmulator(t, filepath.Join("testdata", "microsoft-format.json"))
	send(t, c, "orders.in", msg("queue works"))
	assert.Equal(t, []string{"queue works"}, bodies(peekAll(t, newReceiver(t, c, "orders.in", nil))))

	matchAll := &azservicebus.Message{
		Body: []byte("system"), ContentType: to.Ptr("application/json"), CorrelationID: to.Ptr("corr-7"),
		Subject: to.Ptr("OrderPlaced"), MessageID: to.Ptr("evt-7"), ReplyTo: to.Ptr("replies"),
		ReplyToSessionID: to.Ptr("reply-session"), SessionID: to.Ptr("order-7"), To: to.Ptr("billing"),
		ApplicationProperties: map[string]any{"amount": int64(250)},
	}
	send(t, c, "events",
		matchAll,
		&azservicebus.Message{Body: []byte("eu"), Subject: to.Ptr("OrderPlaced"), ApplicationProperties: map[string]any{"region": "eu", "amount": int64(5)}},
		&azservicebus.Message{Body: []byte("us"), Subject: to.Ptr("OrderPlaced"), ApplicationProperties: map[string]any{"region": "us"}},
		&azservicebus.Message{Body: []byte("test"), Subject: to.Ptr("OrderPlaced"), ApplicationProperties: map[string]any{"region": "us", "test": true}},
		&azservicebus.Message{Body: []byte("other"), Subject: to.Ptr("OrderPaid"), ApplicationProperties: map[string]any{"amount": 1000.5}},
	)
	want := map[string][]string{
		"by-system-properties": {"system"},
		"by-user-property":     {"eu"},
		"everything":           {"system", "eu", "us", "test", "other"},
		"by-sql":               {"system", "us"},
	}
	for sub, bodiesWant := range want {
		r := subReceiver(t, c, "events", sub, nil)
		assert.Equal(t, bodiesWant, bodies(peekAll(t, r)), sub)
	}
}
