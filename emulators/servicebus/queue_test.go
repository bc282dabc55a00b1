package servicebus_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQueue(t *testing.T) {
	c := startEmulator(t, "")

	t.Run("send, receive peek-lock and complete", func(t *testing.T) {
		enqueued := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		send(t, c, "basic", &azservicebus.Message{
			Body: []byte("hello"), MessageID: to.Ptr("m-1"), Subject: to.Ptr("greeting"),
			ContentType: to.Ptr("text/plain"), CorrelationID: to.Ptr("corr-1"),
			ApplicationProperties: map[string]any{"s": "x", "i64": int64(1) << 40, "i32": int32(7), "b": true, "f": 1.5, "t": enqueued},
		})
		r := newReceiver(t, c, "basic", nil)
		m := receiveN(t, r, 1)[0]
		assert.Equal(t, "hello", string(m.Body))
		assert.Equal(t, "m-1", m.MessageID)
		assert.Equal(t, "greeting", *m.Subject)
		assert.Equal(t, "text/plain", *m.ContentType)
		assert.Equal(t, "corr-1", *m.CorrelationID)
		sent, ok := m.ApplicationProperties["t"].(time.Time)
		require.True(t, ok, "timestamp property keeps its type")
		assert.True(t, enqueued.Equal(sent))
		delete(m.ApplicationProperties, "t")
		assert.Equal(t, map[string]any{"s": "x", "i64": int64(1) << 40, "i32": int32(7), "b": true, "f": 1.5}, m.ApplicationProperties)
		assert.EqualValues(t, 1, m.DeliveryCount)
		require.NotNil(t, m.SequenceNumber)
		assert.EqualValues(t, 1, *m.SequenceNumber)
		require.NotNil(t, m.EnqueuedTime)
		require.NotNil(t, m.LockedUntil)
		assert.True(t, m.LockedUntil.After(*m.EnqueuedTime))
		assert.NotEqual(t, [16]byte{}, m.LockToken)
		assert.Equal(t, azservicebus.MessageStateActive, m.State)
		require.NotNil(t, m.TimeToLive)
		assert.Equal(t, time.Hour, *m.TimeToLive, "the entity's DefaultMessageTimeToLive applies")
		require.NotNil(t, m.ExpiresAt)
		require.NoError(t, r.CompleteMessage(ctxFor(t), m, nil))

		send(t, c, "basic", &azservicebus.Message{Body: []byte("short"), TimeToLive: to.Ptr(time.Minute)})
		m = receiveN(t, r, 1)[0]
		assert.Equal(t, time.Minute, *m.TimeToLive, "a shorter message TTL wins")
		require.NoError(t, r.CompleteMessage(ctxFor(t), m, nil))
		assert.Empty(t, peekAll(t, r))
	})

	t.Run("batch send keeps order", func(t *testing.T) {
		s, err := c.NewSender("basic", nil)
		require.NoError(t, err)
		defer s.Close(context.Background())
		batch, err := s.NewMessageBatch(ctxFor(t), nil)
		require.NoError(t, err)
		const n = 300
		for i := range n {
			require.NoError(t, batch.AddMessage(msg(fmt.Sprintf("b-%03d", i)), nil))
		}
		require.NoError(t, s.SendMessageBatch(ctxFor(t), batch, nil))
		r := newReceiver(t, c, "basic", nil)
		// Peek shows the queue in sequence order. (Receive order is not
		// asserted: the SDK releases messages that arrive between two
		// ReceiveMessages calls, and they come back after later ones.)
		var peeked []*azservicebus.ReceivedMessage
		for from := int64(0); len(peeked) < n; {
			page, err := r.PeekMessages(ctxFor(t), n, &azservicebus.PeekMessagesOptions{FromSequenceNumber: &from})
			require.NoError(t, err)
			require.NotEmpty(t, page)
			peeked = append(peeked, page...)
			from = *page[len(page)-1].SequenceNumber + 1
		}
		require.Len(t, peeked, n)
		for i, m := range peeked {
			assert.Equal(t, fmt.Sprintf("b-%03d", i), string(m.Body))
			if i > 0 {
				assert.Greater(t, *m.SequenceNumber, *peeked[i-1].SequenceNumber)
			}
		}
		got := receiveN(t, r, n)
		assert.ElementsMatch(t, bodies(peeked), bodies(got))
		for _, m := range got {
			require.NoError(t, r.CompleteMessage(ctxFor(t), m, nil))
		}
	})

	t.Run("large message spans several frames", func(t *testing.T) {
		body := bytes.Repeat([]byte("0123456789abcdef"), 300*1024/16)
		send(t, c, "basic", &azservicebus.Message{Body: body})
		r := newReceiver(t, c, "basic", nil)
		m := receiveN(t, r, 1)[0]
		assert.Equal(t, body, m.Body)
		require.NoError(t, r.CompleteMessage(ctxFor(t), m, nil))
	})

	t.Run("receive and delete", func(t *testing.T) {
		send(t, c, "basic", msg("r1"), msg("r2"))
		r := newReceiver(t, c, "basic", &azservicebus.ReceiverOptions{ReceiveMode: azservicebus.ReceiveModeReceiveAndDelete})
		got := receiveN(t, r, 2)
		assert.Equal(t, []string{"r1", "r2"}, bodies(got))
		assert.Empty(t, peekAll(t, r))
	})

	t.Run("abandon redelivers with a higher delivery count", func(t *testing.T) {
		send(t, c, "basic", msg("again"))
		r := newReceiver(t, c, "basic", nil)
		first := receiveN(t, r, 1)[0]
		require.NoError(t, r.AbandonMessage(ctxFor(t), first, &azservicebus.AbandonMessageOptions{
			PropertiesToModify: map[string]any{"attempt": "one"},
		}))
		second := receiveN(t, r, 1)[0]
		assert.Equal(t, "again", string(second.Body))
		assert.Equal(t, *first.SequenceNumber, *second.SequenceNumber)
		assert.EqualValues(t, 2, second.DeliveryCount)
		assert.Equal(t, "one", second.ApplicationProperties["attempt"])
		require.NoError(t, r.CompleteMessage(ctxFor(t), second, nil))
	})

	t.Run("dead-letter with reason", func(t *testing.T) {
		send(t, c, "basic", msg("poison"))
		r := newReceiver(t, c, "basic", nil)
		m := receiveN(t, r, 1)[0]
		require.NoError(t, r.DeadLetterMessage(ctxFor(t), m, &azservicebus.DeadLetterOptions{
			Reason: to.Ptr("bad-input"), ErrorDescription: to.Ptr("body is not JSON"),
		}))
		assert.Empty(t, peekAll(t, r))
		dlq := dlqReceiver(t, c, "basic")
		d := receiveN(t, dlq, 1)[0]
		assert.Equal(t, "poison", string(d.Body))
		assert.Equal(t, "bad-input", *d.DeadLetterReason)
		assert.Equal(t, "body is not JSON", *d.DeadLetterErrorDescription)
		require.NoError(t, dlq.CompleteMessage(ctxFor(t), d, nil))
	})

	t.Run("defer and receive deferred", func(t *testing.T) {
		send(t, c, "basic", msg("later"))
		r := newReceiver(t, c, "basic", nil)
		m := receiveN(t, r, 1)[0]
		require.NoError(t, r.DeferMessage(ctxFor(t), m, nil))
		peeked := peekAll(t, r)
		require.Len(t, peeked, 1)
		assert.Equal(t, azservicebus.MessageStateDeferred, peeked[0].State)

		got, err := r.ReceiveDeferredMessages(ctxFor(t), []int64{*m.SequenceNumber}, nil)
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, "later", string(got[0].Body))
		assert.Equal(t, azservicebus.MessageStateDeferred, got[0].State)
		require.NoError(t, r.RenewMessageLock(ctxFor(t), got[0], nil))
		require.NoError(t, r.CompleteMessage(ctxFor(t), got[0], nil))

		_, err = r.ReceiveDeferredMessages(ctxFor(t), []int64{*m.SequenceNumber}, nil)
		requireCode(t, err, azservicebus.CodeNotFound)
	})

	t.Run("deferred message can be abandoned and dead-lettered", func(t *testing.T) {
		send(t, c, "basic", msg("deferred-dlq"))
		r := newReceiver(t, c, "basic", nil)
		m := receiveN(t, r, 1)[0]
		require.NoError(t, r.DeferMessage(ctxFor(t), m, nil))
		got, err := r.ReceiveDeferredMessages(ctxFor(t), []int64{*m.SequenceNumber}, nil)
		require.NoError(t, err)
		require.NoError(t, r.AbandonMessage(ctxFor(t), got[0], nil))
		got, err = r.ReceiveDeferredMessages(ctxFor(t), []int64{*m.SequenceNumber}, nil)
		require.NoError(t, err, "an abandoned deferred message stays deferred")
		require.NoError(t, r.DeadLetterMessage(ctxFor(t), got[0], &azservicebus.DeadLetterOptions{Reason: to.Ptr("gave-up")}))
		d := receiveN(t, dlqReceiver(t, c, "basic"), 1)[0]
		assert.Equal(t, "gave-up", *d.DeadLetterReason)
	})

	t.Run("peek pages through messages", func(t *testing.T) {
		send(t, c, "basic", msg("p1"), msg("p2"), msg("p3"), msg("p4"), msg("p5"))
		r := newReceiver(t, c, "basic", nil)
		first, err := r.PeekMessages(ctxFor(t), 3, nil)
		require.NoError(t, err)
		assert.Equal(t, []string{"p1", "p2", "p3"}, bodies(first))
		next, err := r.PeekMessages(ctxFor(t), 3, nil)
		require.NoError(t, err)
		assert.Equal(t, []string{"p4", "p5"}, bodies(next))
		from := *first[1].SequenceNumber
		one, err := r.PeekMessages(ctxFor(t), 1, &azservicebus.PeekMessagesOptions{FromSequenceNumber: &from})
		require.NoError(t, err)
		assert.Equal(t, []string{"p2"}, bodies(one))
		// peek does not lock: everything is still receivable
		got := receiveN(t, r, 5)
		for _, m := range got {
			require.NoError(t, r.CompleteMessage(ctxFor(t), m, nil))
		}
	})

	t.Run("settling through the management link after the receiver closed", func(t *testing.T) {
		send(t, c, "basic", msg("mgmt"))
		r1, err := c.NewReceiverForQueue("basic", nil)
		require.NoError(t, err)
		m := receiveN(t, r1, 1)[0]
		require.NoError(t, r1.Close(ctxFor(t)))
		r2 := newReceiver(t, c, "basic", nil)
		require.NoError(t, r2.CompleteMessage(ctxFor(t), m, nil))
		assert.Empty(t, peekAll(t, r2))
	})
}
