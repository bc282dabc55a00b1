package servicebus_test

import (
	"context"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/ordersflow/orderpipeline/emulators/servicebus/sbemu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sessionMsg(session, body string) *azservicebus.Message {
	return &azservicebus.Message{Body: []byte(body), SessionID: to.Ptr(session)}
}

func TestSessions(t *testing.T) {
	emu, c := startEmulatorWith(t, "", sbemu.WithFaultControl()) // the control endpoint shows waiting receivers

	t.Run("named session, state and lock renewal", func(t *testing.T) {
		send(t, c, "sessions", sessionMsg("s1", "s1-a"), sessionMsg("s2", "s2-a"), sessionMsg("s1", "s1-b"), sessionMsg("s2", "s2-b"))
		sr, err := c.AcceptSessionForQueue(ctxFor(t), "sessions", "s2", nil)
		require.NoError(t, err)
		defer sr.Close(context.Background())
		assert.Equal(t, "s2", sr.SessionID())
		lockedUntil := sr.LockedUntil()
		assert.False(t, lockedUntil.IsZero())

		assert.Equal(t, []string{"s2-a", "s2-b"}, bodies(peekAll(t, sr)), "peek on a session receiver sees only its session")
		got := receiveN(t, sr, 2)
		assert.Equal(t, []string{"s2-a", "s2-b"}, bodies(got))
		for _, m := range got {
			assert.Equal(t, "s2", *m.SessionID)
			require.NoError(t, sr.CompleteMessage(ctxFor(t), m, nil))
		}

		state, err := sr.GetSessionState(ctxFor(t), nil)
		require.NoError(t, err)
		assert.Nil(t, state)
		require.NoError(t, sr.SetSessionState(ctxFor(t), []byte(`{"step":2}`), nil))
		state, err = sr.GetSessionState(ctxFor(t), nil)
		require.NoError(t, err)
		assert.Equal(t, `{"step":2}`, string(state))

		require.NoError(t, sr.RenewSessionLock(ctxFor(t), nil))
		assert.False(t, sr.LockedUntil().Before(lockedUntil))

		// the session is locked: nobody else can take it
		_, err = c.AcceptSessionForQueue(ctxFor(t), "sessions", "s2", nil)
		requireCondition(t, err, "com.microsoft:session-cannot-be-locked")
		require.NoError(t, sr.Close(ctxFor(t)))

		// once released it can be accepted again and keeps its state
		again, err := c.AcceptSessionForQueue(ctxFor(t), "sessions", "s2", nil)
		require.NoError(t, err)
		state, err = again.GetSessionState(ctxFor(t), nil)
		require.NoError(t, err)
		assert.Equal(t, `{"step":2}`, string(state))
		require.NoError(t, again.Close(ctxFor(t)))
	})

	t.Run("list sessions", func(t *testing.T) {
		var ids []string
		pager := c.NewListSessionsForQueuePager("sessions", nil)
		for pager.More() {
			page, err := pager.NextPage(ctxFor(t))
			require.NoError(t, err)
			ids = append(ids, page.Sessions...)
		}
		assert.ElementsMatch(t, []string{"s1", "s2"}, ids, "s1 has messages, s2 has state")
		since := time.Now().Add(-time.Hour)
		pager = c.NewListSessionsForQueuePager("sessions", &azservicebus.ListSessionsOptions{SessionStateUpdatedAfter: &since})
		ids = nil
		for pager.More() {
			page, err := pager.NextPage(ctxFor(t))
			require.NoError(t, err)
			ids = append(ids, page.Sessions...)
		}
		assert.Equal(t, []string{"s2"}, ids)
	})

	t.Run("accept next session gets one with messages", func(t *testing.T) {
		sr, err := c.AcceptNextSessionForQueue(ctxFor(t), "sessions", nil)
		require.NoError(t, err)
		defer sr.Close(context.Background())
		assert.Equal(t, "s1", sr.SessionID())
		got := receiveN(t, sr, 2)
		assert.Equal(t, []string{"s1-a", "s1-b"}, bodies(got))
		// abandon one, it comes back within the same session
		require.NoError(t, sr.AbandonMessage(ctxFor(t), got[1], nil))
		require.NoError(t, sr.CompleteMessage(ctxFor(t), got[0], nil))
		back := receiveN(t, sr, 1)[0]
		assert.Equal(t, "s1-b", string(back.Body))
		assert.EqualValues(t, 2, back.DeliveryCount)
		require.NoError(t, sr.DeferMessage(ctxFor(t), back, nil))
		deferred, err := sr.ReceiveDeferredMessages(ctxFor(t), []int64{*back.SequenceNumber}, nil)
		require.NoError(t, err)
		require.Len(t, deferred, 1)
		require.NoError(t, sr.CompleteMessage(ctxFor(t), deferred[0], nil))
		assert.Empty(t, peekAll(t, sr))
	})

	t.Run("accept next session waits for a session to get messages", func(t *testing.T) {
		type result struct {
			sr  *azservicebus.SessionReceiver
			err error
		}
		done := make(chan result, 1)
		go func() {
			sr, err := c.AcceptNextSessionForQueue(ctxFor(t), "sessions", nil)
			done <- result{sr, err}
		}()
		require.Eventually(t, func() bool {
			entities, err := emu.Entities(ctxFor(t))
			return err == nil && entities["sessions"].SessionWaiters == 1
		}, liveness, 10*time.Millisecond, "the accept waits at the broker before any session has messages")
		send(t, c, "sessions", sessionMsg("late", "late-1"))
		res := <-done
		require.NoError(t, res.err)
		defer res.sr.Close(context.Background())
		assert.Equal(t, "late", res.sr.SessionID())
		m := receiveN(t, res.sr, 1)[0]
		require.NoError(t, res.sr.CompleteMessage(ctxFor(t), m, nil))
	})

	t.Run("accept next session times out when there is none", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
		defer cancel()
		_, err := c.AcceptNextSessionForQueue(ctx, "sessions", nil)
		requireCode(t, err, azservicebus.CodeTimeout)
	})

	t.Run("session lock expires when not renewed", func(t *testing.T) {
		// LockDuration is PT2S on the sessions queue
		send(t, c, "sessions", sessionMsg("expiring", "e-1"))
		sr, err := c.AcceptSessionForQueue(ctxFor(t), "sessions", "expiring", nil)
		require.NoError(t, err)
		defer sr.Close(context.Background())
		m := receiveN(t, sr, 1)[0]
		var other *azservicebus.SessionReceiver
		require.Eventually(t, func() bool {
			var err error
			other, err = c.AcceptSessionForQueue(ctxFor(t), "sessions", "expiring", nil)
			return err == nil
		}, liveness, 250*time.Millisecond, "another receiver gets the session once the lock lapses")
		again := receiveN(t, other, 1)[0]
		assert.Equal(t, *m.SequenceNumber, *again.SequenceNumber)
		require.NoError(t, other.CompleteMessage(ctxFor(t), again, nil))
		require.NoError(t, other.Close(ctxFor(t)))

		// The SDK retries lock-lost settlements on session receivers, so bound the wait.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		require.Error(t, sr.CompleteMessage(ctx, m, nil))
	})

	t.Run("a lapsed session lock is taken back though nobody asks for the session", func(t *testing.T) {
		// Other sessions, never locked, are there too: the sweep must still
		// find the one whose lock lapsed.
		send(t, c, "sessions", sessionMsg("idle-1", "i-1"), sessionMsg("idle-2", "i-2"), sessionMsg("lapsing", "l-1"))
		sr, err := c.AcceptSessionForQueue(ctxFor(t), "sessions", "lapsing", nil)
		require.NoError(t, err)
		defer sr.Close(context.Background())
		receiveN(t, sr, 1)
		receivers := func() int {
			stats, err := emu.Entities(ctxFor(t))
			require.NoError(t, err)
			return stats["sessions"].Receivers
		}
		require.Equal(t, 1, receivers())
		require.Eventually(t, func() bool { return receivers() == 0 }, liveness, 100*time.Millisecond,
			"the broker drops the session receiver once its 2 s lock lapses")
		stats, err := emu.Entities(ctxFor(t))
		require.NoError(t, err)
		assert.Equal(t, 0, stats["sessions"].Locked, "its message is no longer locked")
	})

	t.Run("receive and delete on a session", func(t *testing.T) {
		send(t, c, "sessions", sessionMsg("rad", "rad-1"), sessionMsg("rad", "rad-2"))
		sr, err := c.AcceptSessionForQueue(ctxFor(t), "sessions", "rad", &azservicebus.SessionReceiverOptions{ReceiveMode: azservicebus.ReceiveModeReceiveAndDelete})
		require.NoError(t, err)
		defer sr.Close(context.Background())
		assert.Equal(t, []string{"rad-1", "rad-2"}, bodies(receiveN(t, sr, 2)))
		assert.Empty(t, peekAll(t, sr))
	})

	t.Run("messages without a session id are refused", func(t *testing.T) {
		s, err := c.NewSender("sessions", nil)
		require.NoError(t, err)
		defer s.Close(context.Background())
		requireCondition(t, s.SendMessage(ctxFor(t), msg("no-session"), nil), "amqp:not-allowed")
	})

	t.Run("a plain receiver on a session queue is refused", func(t *testing.T) {
		r := newReceiver(t, c, "sessions", nil)
		_, err := r.ReceiveMessages(ctxFor(t), 1, nil)
		requireCondition(t, err, "amqp:not-allowed")
	})
}
