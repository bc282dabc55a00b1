package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/internal/chaos"
)

// testLog writes a chaos run's report to the test log, line by line.
type testLog struct {
	t  *testing.T
	mu sync.Mutex
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestChaos is make chaos with 1,000 orders: a devstack process under
// Cosmos DB 429s, 503s and latency, a Service Bus outage, and kill -9 of the
// handler, of the Service Bus emulator and of the whole stack. Every
// promise the audit checks must hold, and the run must have met each
// kind of order: fulfilled, declined, and cancelled after a refund.
func TestChaos(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	data := filepath.Join(t.TempDir(), "data")
	report, err := chaos.Run(ctx, chaos.Config{Devstack: buildDevstack(t), App: appDir, DataDir: data,
		Orders: 1000, Clients: 16, Settle: 3 * time.Minute, Out: &testLog{t: t}, Log: &lockedBuffer{}})
	require.NoError(t, err)
	assert.Equal(t, 1000, report.Orders)
	assert.Equal(t, 1000, report.Stored)
	assert.Len(t, report.Injected, 7, "every step of the schedule ran")
	assert.Len(t, report.Checks, 7)
	for _, c := range report.Checks {
		assert.True(t, c.OK, "%s: %s", c.Name, c.Detail)
	}
	assert.Equal(t, 1000, report.Statuses["Fulfilled"]+report.Statuses["Cancelled"])
	assert.Greater(t, report.Statuses["Cancelled"], report.Refunds, "declined orders are cancelled without a refund")
	assert.Equal(t, 100-40, report.Refunds, "every KEYBOARD-65 order past its stock of 40 is refunded")
}
