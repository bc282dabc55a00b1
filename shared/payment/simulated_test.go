package payment

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// memLedger is an in-memory Ledger with ETags, and an error to inject.
type memLedger struct {
	mu      sync.Mutex
	entries map[string]Entry
	version int
	err     error
	reads   atomic.Int32 // Get calls
	writes  int
}

func newMemLedger() *memLedger { return &memLedger{entries: map[string]Entry{}} }

func (m *memLedger) Get(_ context.Context, id string) (Entry, error) {
	m.reads.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return Entry{}, m.err
	}
	e, ok := m.entries[id]
	if !ok {
		return Entry{}, order.ErrNotFound
	}
	return e, nil
}

func (m *memLedger) Create(_ context.Context, e Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	if _, ok := m.entries[e.ID]; ok {
		return order.ErrConflict
	}
	return m.put(e)
}

func (m *memLedger) Replace(_ context.Context, e Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries[e.ID].ETag != e.ETag {
		return order.ErrConflict
	}
	return m.put(e)
}

func (m *memLedger) put(e Entry) error {
	m.version++
	m.writes++
	e.ETag = string(rune('a' + m.version))
	m.entries[e.ID] = e
	return nil
}

func gateway(t *testing.T, l Ledger) *Simulated {
	t.Helper()
	g, err := NewSimulated(l)
	require.NoError(t, err)
	return g
}

func req(token string) Request {
	return Request{Key: "charge~ord_1", OrderID: "ord_1", Token: token, Amount: 1000, Currency: "USD"}
}

func TestChargeOutcomes(t *testing.T) {
	cases := []struct {
		token    string
		approved bool
		reason   string
	}{
		{TokenVisa, true, ""},
		{TokenMastercard, true, ""},
		{TokenDeclined, false, "card_declined"},
		{"tok_whatever", false, "unknown_test_token"},
	}
	for _, tc := range cases {
		t.Run(tc.token, func(t *testing.T) {
			l := newMemLedger()
			rc, err := gateway(t, l).Charge(context.Background(), req(tc.token))
			require.NoError(t, err)
			assert.Equal(t, tc.approved, rc.Approved)
			assert.Equal(t, tc.reason, rc.DeclineReason)
			assert.Equal(t, tc.approved, rc.PaymentID != "")
		})
	}
}

func TestChargeIsIdempotentPerKey(t *testing.T) {
	l := newMemLedger()
	g := gateway(t, l)
	first, err := g.Charge(context.Background(), req(TokenVisa))
	require.NoError(t, err)
	again, err := g.Charge(context.Background(), req(TokenVisa))
	require.NoError(t, err)
	assert.Equal(t, first, again)
	assert.Equal(t, 1, l.writes, "a repeated key must not write (charge) again")
}

func TestUnavailableFailsOnceThenApproves(t *testing.T) {
	l := newMemLedger()
	g := gateway(t, l)
	_, err := g.Charge(context.Background(), req(TokenUnavailable))
	require.ErrorIs(t, err, ErrUnavailable)
	assert.ErrorIs(t, err, order.ErrUnavailable, "the gateway being down is the domain's ErrUnavailable")
	rc, err := g.Charge(context.Background(), req(TokenUnavailable))
	require.NoError(t, err)
	assert.True(t, rc.Approved)
	assert.Equal(t, 2, l.entries["charge~ord_1"].Attempts)
}

func TestConcurrentChargesCaptureOnce(t *testing.T) {
	l := newMemLedger()
	g := gateway(t, l)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = g.Charge(context.Background(), req(TokenVisa))
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, l.writes)
}

func TestRefundIsIdempotent(t *testing.T) {
	l := newMemLedger()
	g := gateway(t, l)
	r := Request{Key: "refund~ord_1", OrderID: "ord_1", Amount: 1000, Currency: "USD"}
	a, err := g.Refund(context.Background(), r)
	require.NoError(t, err)
	b, err := g.Refund(context.Background(), r)
	require.NoError(t, err)
	assert.Equal(t, a, b)
	assert.Equal(t, 1, l.writes)
	assert.Equal(t, StatusRefunded, l.entries["refund~ord_1"].Status)
}

func TestAFirstChargeIsOneWrite(t *testing.T) {
	l := newMemLedger()
	g := gateway(t, l)
	_, err := g.Charge(context.Background(), req(TokenVisa))
	require.NoError(t, err)
	assert.Equal(t, int32(0), l.reads.Load(), "no read before the first write")
	assert.Equal(t, 1, l.writes)
	_, err = g.Charge(context.Background(), req(TokenVisa))
	require.NoError(t, err)
	assert.Equal(t, int32(1), l.reads.Load(), "a repeated key reads what was recorded")
	assert.Equal(t, 1, l.writes, "and writes nothing")
}

func TestLedgerFailureIsReported(t *testing.T) {
	l := newMemLedger()
	l.err = errors.New("boom")
	_, err := gateway(t, l).Charge(context.Background(), req(TokenVisa))
	assert.ErrorContains(t, err, "boom")
	_, err = NewSimulated(nil)
	assert.Error(t, err)
}
