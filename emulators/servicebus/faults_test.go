package servicebus_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/ordersflow/orderpipeline/emulators/servicebus/sbemu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// faultyEmulator starts an emulator with its control endpoint open and
// returns it with a client that retries once, at once, so faults reach the
// test (the SDK recovers a lost connection or link only when it retries).
func faultyEmulator(t *testing.T) (*sbemu.Emulator, *azservicebus.Client) {
	t.Helper()
	root, err := sbemu.RepoRoot()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), liveness)
	defer cancel()
	emu, err := sbemu.Start(ctx, root, writeConfig(t, testConfig()), testLog{t}, sbemu.WithFaultControl())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, emu.Stop()) })
	require.NotEmpty(t, emu.ControlURL())
	c, err := azservicebus.NewClientFromConnectionString(emu.ConnectionString(), &azservicebus.ClientOptions{
		RetryOptions: azservicebus.RetryOptions{MaxRetries: 1, RetryDelay: 10 * time.Millisecond, MaxRetryDelay: 10 * time.Millisecond},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return emu, c
}

const longFault = time.Hour // faults in these tests end by ClearFaults, never by the clock

func TestFaultRefuseConnections(t *testing.T) {
	emu, c := faultyEmulator(t)
	s, err := c.NewSender("basic", nil)
	require.NoError(t, err)
	require.NoError(t, s.SendMessage(ctxFor(t), msg("before"), nil))

	require.NoError(t, emu.InjectFault(ctxFor(t), sbemu.Fault{Kind: sbemu.RefuseConnections, For: longFault}))
	require.Error(t, s.SendMessage(ctxFor(t), msg("refused"), nil), "the connection is dropped and a new one refused")
	report, err := emu.Faults(ctxFor(t))
	require.NoError(t, err)
	require.Len(t, report.Active, 1)
	assert.Equal(t, sbemu.RefuseConnections, report.Active[0].Kind)
	assert.Equal(t, 1, report.Injected[sbemu.RefuseConnections])

	require.NoError(t, emu.ClearFaults(ctxFor(t)))
	require.Eventually(t, func() bool { return s.SendMessage(ctxFor(t), msg("after"), nil) == nil }, liveness, 50*time.Millisecond,
		"the client reconnects once the fault is over")
	r := newReceiver(t, c, "basic", nil)
	assert.Equal(t, []string{"before", "after"}, bodies(peekAll(t, r)))
}

func TestFaultDetachLinks(t *testing.T) {
	emu, c := faultyEmulator(t)
	s, err := c.NewSender("basic", nil)
	require.NoError(t, err)
	require.NoError(t, s.SendMessage(ctxFor(t), msg("before"), nil))
	r := newReceiver(t, c, "basic", &azservicebus.ReceiverOptions{ReceiveMode: azservicebus.ReceiveModeReceiveAndDelete})
	assert.Equal(t, []string{"before"}, bodies(receiveN(t, r, 1)))
	require.NoError(t, s.SendMessage(ctxFor(t), msg("waiting"), nil))

	require.NoError(t, emu.InjectFault(ctxFor(t), sbemu.Fault{Kind: sbemu.DetachLinks, For: longFault}))
	err = s.SendMessage(ctxFor(t), msg("detached"), nil)
	requireCode(t, err, azservicebus.CodeConnectionLost)
	assert.ErrorContains(t, err, "amqp:link:detach-forced")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	got, _ := r.ReceiveMessages(ctx, 1, nil)
	assert.Empty(t, got, "a detached receiver gets nothing although a message waits")

	require.NoError(t, emu.ClearFaults(ctxFor(t)))
	require.NoError(t, s.SendMessage(ctxFor(t), msg("after"), nil), "the sender reattaches")
	assert.Equal(t, []string{"waiting", "after"}, bodies(receiveN(t, r, 2)), "and so does the receiver")
}

func TestFaultDetachLinksAnswersAWaitingSessionAccept(t *testing.T) {
	emu, c := faultyEmulator(t)
	done := make(chan error, 1)
	go func() {
		sr, err := c.AcceptNextSessionForQueue(ctxFor(t), "sessions", nil)
		if err == nil {
			_ = sr.Close(context.Background())
		}
		done <- err
	}()
	require.Eventually(t, func() bool {
		entities, err := emu.Entities(ctxFor(t))
		return err == nil && entities["sessions"].SessionWaiters == 1
	}, liveness, 10*time.Millisecond)
	require.NoError(t, emu.InjectFault(ctxFor(t), sbemu.Fault{Kind: sbemu.DetachLinks, For: longFault}))
	select {
	case err := <-done:
		assert.ErrorContains(t, err, "amqp:link:detach-forced")
	case <-ctxFor(t).Done():
		t.Fatal("the held accept was never answered")
	}
}

func TestFaultDelaySettlements(t *testing.T) {
	emu, c := faultyEmulator(t)
	send(t, c, "short-lock", msg("slow")) // LockDuration PT1S
	r := newReceiver(t, c, "short-lock", nil)
	m := receiveN(t, r, 1)[0]

	// held for longer than the lock lasts: applied after the lock is gone
	require.NoError(t, emu.InjectFault(ctxFor(t), sbemu.Fault{Kind: sbemu.DelaySettlements, For: longFault, Delay: 3 * time.Second}))
	requireCode(t, r.CompleteMessage(ctxFor(t), m, nil), azservicebus.CodeLockLost)

	require.NoError(t, emu.ClearFaults(ctxFor(t)))
	again := receiveN(t, r, 1)[0]
	assert.Equal(t, *m.SequenceNumber, *again.SequenceNumber, "the message was not completed")
	require.NoError(t, r.CompleteMessage(ctxFor(t), again, nil))
	assert.Empty(t, peekAll(t, r))
}

func TestFaultFailSettlements(t *testing.T) {
	emu, c := faultyEmulator(t)
	send(t, c, "short-lock", msg("stubborn")) // LockDuration PT1S
	r := newReceiver(t, c, "short-lock", nil)
	m := receiveN(t, r, 1)[0]

	require.NoError(t, emu.InjectFault(ctxFor(t), sbemu.Fault{Kind: sbemu.FailSettlements, For: longFault,
		Condition: "com.microsoft:message-lock-lost"}))
	requireCode(t, r.CompleteMessage(ctxFor(t), m, nil), azservicebus.CodeLockLost)
	assert.Equal(t, []string{"stubborn"}, bodies(peekAll(t, r)), "a failed settlement is not applied")

	require.NoError(t, emu.ClearFaults(ctxFor(t)))
	again := receiveN(t, r, 1)[0]
	assert.Equal(t, *m.SequenceNumber, *again.SequenceNumber, "the message comes back when its lock expires")
	assert.EqualValues(t, 2, again.DeliveryCount)
	require.NoError(t, r.CompleteMessage(ctxFor(t), again, nil))
	assert.Empty(t, peekAll(t, r))
}

func TestFaultFailSettlementsThroughManagement(t *testing.T) {
	emu, c := faultyEmulator(t)
	send(t, c, "basic", msg("mgmt"))
	r1, err := c.NewReceiverForQueue("basic", nil)
	require.NoError(t, err)
	m := receiveN(t, r1, 1)[0]
	require.NoError(t, r1.Close(ctxFor(t))) // settling now goes through $management
	r2 := newReceiver(t, c, "basic", nil)

	require.NoError(t, emu.InjectFault(ctxFor(t), sbemu.Fault{Kind: sbemu.FailSettlements, For: longFault,
		Condition: "com.microsoft:message-lock-lost"}))
	requireCode(t, r2.CompleteMessage(ctxFor(t), m, nil), azservicebus.CodeLockLost)

	require.NoError(t, emu.ClearFaults(ctxFor(t)))
	require.NoError(t, r2.CompleteMessage(ctxFor(t), m, nil), "the failed settlement left the lock in place")
	assert.Empty(t, peekAll(t, r2))
}

func TestFaultsEndByThemselves(t *testing.T) {
	emu, c := faultyEmulator(t)
	require.NoError(t, emu.InjectFault(ctxFor(t), sbemu.Fault{Kind: sbemu.DetachLinks, For: 200 * time.Millisecond}))
	require.Eventually(t, func() bool {
		report, err := emu.Faults(ctxFor(t))
		return err == nil && len(report.Active) == 0
	}, liveness, 50*time.Millisecond)
	send(t, c, "basic", msg("fine"))
}

func TestControlEndpointRejectsBadRequests(t *testing.T) {
	emu, _ := faultyEmulator(t)
	do := func(method, path, contentType, body string) *http.Response {
		req, err := http.NewRequestWithContext(ctxFor(t), method, emu.ControlURL()+path, strings.NewReader(body))
		require.NoError(t, err)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { _ = resp.Body.Close() })
		return resp
	}
	tests := []struct {
		name, method, path, contentType, body string
		status                                int
	}{
		{"unknown kind", "POST", "/faults", "application/json", `{"kind":"meteor","seconds":1}`, 400},
		{"no seconds", "POST", "/faults", "application/json", `{"kind":"detach-links"}`, 400},
		{"too long", "POST", "/faults", "application/json", `{"kind":"detach-links","seconds":86400}`, 400},
		{"delay without delayMs", "POST", "/faults", "application/json", `{"kind":"delay-settlements","seconds":1}`, 400},
		{"rate out of range", "POST", "/faults", "application/json", `{"kind":"fail-settlements","seconds":1,"rate":2}`, 400},
		{"unknown condition", "POST", "/faults", "application/json", `{"kind":"fail-settlements","seconds":1,"condition":"x"}`, 400},
		{"unknown field", "POST", "/faults", "application/json", `{"kind":"detach-links","seconds":1,"extra":1}`, 400},
		{"not json", "POST", "/faults", "application/json", `{`, 400},
		{"too large", "POST", "/faults", "application/json", strings.Repeat(" ", 32*1024), 413},
		{"not declared json", "POST", "/faults", "text/plain", `{"kind":"detach-links","seconds":1}`, 415},
		{"unknown path", "GET", "/nope", "", "", 404},
		{"wrong method", "PUT", "/faults", "", "", 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := do(tt.method, tt.path, tt.contentType, tt.body)
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
		})
	}
	report, err := emu.Faults(ctxFor(t))
	require.NoError(t, err)
	assert.Empty(t, report.Active, "no bad request put a fault in force")
}

func TestFaultAPINeedsTheControlEndpoint(t *testing.T) {
	root, err := sbemu.RepoRoot()
	require.NoError(t, err)
	emu, err := sbemu.Start(ctxFor(t), root, writeConfig(t, testConfig()), testLog{t})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, emu.Stop()) })
	assert.Empty(t, emu.ControlURL())
	require.ErrorContains(t, emu.InjectFault(ctxFor(t), sbemu.Fault{Kind: sbemu.DetachLinks, For: time.Second}), "WithFaultControl")
}

// TestFaultDetachLinksFailsTransfersInFlight detaches the link of a sender
// that is busy sending: a transfer the client sent before it saw the detach
// reaches a link the emulator has let go of, and must fail the way the
// detach does (amqp:link:detach-forced, which the SDK recovers from), not as
// a link with no entity (which it does not). Each round races several sends
// with the detach; the rounds make that race likely to be met.
func TestFaultDetachLinksFailsTransfersInFlight(t *testing.T) {
	const rounds, senders = 10, 8
	emu, c := faultyEmulator(t)
	for round := range rounds {
		s, err := c.NewSender("basic", nil)
		require.NoError(t, err)
		require.NoError(t, s.SendMessage(ctxFor(t), msg("warm-up"), nil), "round %d", round)
		failed := make(chan error, senders)
		for range senders {
			go func() {
				for {
					if err := s.SendMessage(ctxFor(t), msg("busy"), nil); err != nil {
						failed <- err
						return
					}
				}
			}()
		}
		require.NoError(t, emu.InjectFault(ctxFor(t), sbemu.Fault{Kind: sbemu.DetachLinks, For: longFault}))
		for range senders {
			err := <-failed
			requireCode(t, err, azservicebus.CodeConnectionLost)
			assert.ErrorContains(t, err, "amqp:link:detach-forced", "round %d", round)
		}
		require.NoError(t, emu.ClearFaults(ctxFor(t)))
		require.NoError(t, s.Close(ctxFor(t)))
	}
}
