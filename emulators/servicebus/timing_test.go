package servicebus_test

import (
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Entities in these tests have lock durations and TTLs of about a second, so
// expiry happens quickly; waits are bounded by the liveness timeout only.
func TestLocksAndExpiry(t *testing.T) {
	c := startEmulator(t, "")

	t.Run("lock expiry redelivers and the old lock is lost", func(t *testing.T) {
		send(t, c, "short-lock", msg("slow"))
		r := newReceiver(t, c, "short-lock", nil)
		first := receiveN(t, r, 1)[0]
		assert.EqualValues(t, 1, first.DeliveryCount)
		second := receiveN(t, r, 1)[0] // arrives once the first lock expires
		assert.Equal(t, *first.SequenceNumber, *second.SequenceNumber)
		assert.EqualValues(t, 2, second.DeliveryCount)
		requireCode(t, r.CompleteMessage(ctxFor(t), first, nil), azservicebus.CodeLockLost)
		requireCode(t, r.RenewMessageLock(ctxFor(t), first, nil), azservicebus.CodeLockLost)
		require.NoError(t, r.CompleteMessage(ctxFor(t), second, nil))
	})

	t.Run("renew lock keeps the message locked", func(t *testing.T) {
		send(t, c, "short-lock", msg("renewed"))
		r := newReceiver(t, c, "short-lock", nil)
		m := receiveN(t, r, 1)[0]
		firstLock := *m.LockedUntil
		// Renew well inside the 1 s lock for longer than the lock lasts.
		deadline := firstLock.Add(500 * time.Millisecond)
		for time.Now().Before(deadline) {
			require.NoError(t, r.RenewMessageLock(ctxFor(t), m, nil))
			time.Sleep(100 * time.Millisecond)
		}
		assert.True(t, m.LockedUntil.After(firstLock))
		peeked := peekAll(t, r)
		require.Len(t, peeked, 1, "the message was never redelivered")
		require.NoError(t, r.CompleteMessage(ctxFor(t), m, nil))
		assert.Empty(t, peekAll(t, r))
	})

	t.Run("max delivery count moves the message to the dead-letter queue", func(t *testing.T) {
		send(t, c, "max-delivery", msg("flaky"))
		r := newReceiver(t, c, "max-delivery", nil)
		for i := 1; i <= 2; i++ {
			m := receiveN(t, r, 1)[0]
			assert.EqualValues(t, i, m.DeliveryCount)
			require.NoError(t, r.AbandonMessage(ctxFor(t), m, nil))
		}
		d := receiveN(t, dlqReceiver(t, c, "max-delivery"), 1)[0]
		assert.Equal(t, "flaky", string(d.Body))
		assert.Equal(t, "MaxDeliveryCountExceeded", *d.DeadLetterReason)
		assert.Empty(t, peekAll(t, r))
	})

	t.Run("expired message is dead-lettered when the entity says so", func(t *testing.T) {
		send(t, c, "ttl-dlq", &azservicebus.Message{Body: []byte("stale"), TimeToLive: to.Ptr(200 * time.Millisecond)})
		d := receiveN(t, dlqReceiver(t, c, "ttl-dlq"), 1)[0]
		assert.Equal(t, "stale", string(d.Body))
		assert.Equal(t, "TTLExpiredException", *d.DeadLetterReason)
		r := newReceiver(t, c, "ttl-dlq", nil)
		assert.Empty(t, peekAll(t, r))
	})

	t.Run("expired message is dropped otherwise", func(t *testing.T) {
		// DefaultMessageTimeToLive is PT0.3S on ttl-drop
		send(t, c, "ttl-drop", msg("gone"))
		r := newReceiver(t, c, "ttl-drop", nil)
		require.Eventually(t, func() bool { return len(peekAll(t, r)) == 0 }, liveness, 50*time.Millisecond)
		assert.Empty(t, peekAll(t, dlqReceiver(t, c, "ttl-drop")))
	})

	t.Run("scheduled messages arrive later and can be cancelled", func(t *testing.T) {
		s, err := c.NewSender("basic", nil)
		require.NoError(t, err)
		soon, err := s.ScheduleMessages(ctxFor(t), []*azservicebus.Message{msg("soon")}, time.Now().Add(time.Second), nil)
		require.NoError(t, err)
		require.Len(t, soon, 1)
		never, err := s.ScheduleMessages(ctxFor(t), []*azservicebus.Message{msg("never")}, time.Now().Add(time.Hour), nil)
		require.NoError(t, err)
		r := newReceiver(t, c, "basic", nil)
		peeked := peekAll(t, r)
		require.Len(t, peeked, 2)
		for _, p := range peeked {
			assert.NotNil(t, p.ScheduledEnqueueTime)
		}
		assert.Equal(t, never[0], *peeked[1].SequenceNumber)
		assert.Equal(t, azservicebus.MessageStateScheduled, peeked[1].State)
		require.NoError(t, s.CancelScheduledMessages(ctxFor(t), never, nil))
		m := receiveN(t, r, 1)[0]
		assert.Equal(t, "soon", string(m.Body))
		assert.Equal(t, soon[0], *m.SequenceNumber)
		require.NotNil(t, m.ScheduledEnqueueTime)
		require.NoError(t, r.CompleteMessage(ctxFor(t), m, nil))
		assert.Empty(t, peekAll(t, r))

		// ScheduledEnqueueTime on an ordinary send schedules too.
		require.NoError(t, s.SendMessage(ctxFor(t), &azservicebus.Message{Body: []byte("via-send"), ScheduledEnqueueTime: to.Ptr(time.Now().Add(500 * time.Millisecond))}, nil))
		m = receiveN(t, r, 1)[0]
		assert.Equal(t, "via-send", string(m.Body))
		require.NoError(t, r.CompleteMessage(ctxFor(t), m, nil))
	})

	t.Run("duplicate detection drops a repeated message id", func(t *testing.T) {
		send(t, c, "dedupe",
			&azservicebus.Message{Body: []byte("one"), MessageID: to.Ptr("order-1:OrderPlaced")},
			&azservicebus.Message{Body: []byte("dup"), MessageID: to.Ptr("order-1:OrderPlaced")},
			&azservicebus.Message{Body: []byte("two"), MessageID: to.Ptr("order-1:TaxApplied")},
		)
		r := newReceiver(t, c, "dedupe", nil)
		assert.Equal(t, []string{"one", "two"}, bodies(peekAll(t, r)))
		// also within a batch
		s, err := c.NewSender("dedupe", nil)
		require.NoError(t, err)
		batch, err := s.NewMessageBatch(ctxFor(t), nil)
		require.NoError(t, err)
		require.NoError(t, batch.AddMessage(&azservicebus.Message{Body: []byte("three"), MessageID: to.Ptr("x")}, nil))
		require.NoError(t, batch.AddMessage(&azservicebus.Message{Body: []byte("three-again"), MessageID: to.Ptr("x")}, nil))
		require.NoError(t, s.SendMessageBatch(ctxFor(t), batch, nil))
		assert.Equal(t, []string{"one", "two", "three"}, bodies(peekAll(t, r)))
		// without duplicate detection the same id is delivered twice
		send(t, c, "basic", &azservicebus.Message{Body: []byte("a"), MessageID: to.Ptr("same")}, &azservicebus.Message{Body: []byte("b"), MessageID: to.Ptr("same")})
		got := receiveN(t, newReceiver(t, c, "basic", &azservicebus.ReceiverOptions{ReceiveMode: azservicebus.ReceiveModeReceiveAndDelete}), 2)
		assert.Equal(t, []string{"a", "b"}, bodies(got))
	})
}
