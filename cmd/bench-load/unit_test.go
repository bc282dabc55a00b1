package main

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/shared/order"
)

func TestParseStat(t *testing.T) {
	// comm with a space and a parenthesis; utime 250, stime 50 ticks
	st, err := parseStat("4242 (my (odd) cmd) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 123 456 789")
	require.NoError(t, err)
	assert.Equal(t, procStat{pid: 4242, ppid: 17, comm: "my (odd) cmd", cpu: 3 * time.Second}, st)
	_, err = parseStat("4242 cmd S 17")
	assert.Error(t, err)
}

func TestStackProcessesFindsThisProcess(t *testing.T) {
	procs, err := stackProcesses(0)
	require.NoError(t, err)
	require.Len(t, procs, 1)
	times := cpuTimes(procs)
	assert.GreaterOrEqual(t, times[0], time.Duration(0))
}

func TestParseIOCalls(t *testing.T) {
	assert.Equal(t, int64(10+4), parseIOCalls("rchar: 6976\nwchar: 0\nsyscr: 10\nsyscw: 4\nread_bytes: 0\n"))
	assert.Equal(t, int64(-1), parseIOCalls("rchar: 6976\nsyscr: 10\n"), "no syscw")
	assert.Equal(t, int64(-1), parseIOCalls("syscr: x\nsyscw: 1\n"))
	calls := ioCalls([]process{{PID: os.Getpid()}, {PID: -1}})
	assert.Positive(t, calls[0], "this process has read its binary's files")
	assert.Equal(t, int64(-1), calls[1])
}

func TestParseVmHWM(t *testing.T) {
	assert.Equal(t, int64(51200<<10), parseVmHWM("Name:\tdevstack\nVmPeak:\t 1234567 kB\nVmHWM:\t   51200 kB\nVmRSS:\t 40000 kB\n"))
	assert.Equal(t, int64(-1), parseVmHWM("Name:\tzombie\nState:\tZ (zombie)\n"), "a zombie has no VmHWM")
	assert.Equal(t, int64(-1), parseVmHWM("VmHWM:\t  12 MB\n"), "only kB is a unit it knows")
	assert.Positive(t, peakRSS(os.Getpid()), "this process has resident memory")
	assert.Equal(t, int64(-1), peakRSS(-1))
}

func TestRUCollectorSumsInvocationLinesByFunction(t *testing.T) {
	c := newRUCollector()
	for _, l := range []string{
		`[2026-12-01T21:00:00.000Z] handler: {"level":"info","function":"ApplyTax","ru":12.5,"message":"invocation finished"}`,
		`[2026-12-01T21:00:00.001Z] handler: {"level":"info","function":"ApplyTax","ru":2.5,"message":"invocation finished"}`,
		`[2026-12-01T21:00:00.002Z] handler: {"level":"info","function":"Checkout","ru":14,"message":"invocation finished"}`,
		`[2026-12-01T21:00:00.003Z] handler: {"level":"info","function":"ApplyTax","event":"o:TaxApplied","message":"event appended"}`,
		`[2026-12-01T21:00:00.004Z] Executed 'Functions.ApplyTax' (Succeeded, Id=1, Duration=3ms)`,
		`[2026-12-01T21:00:00.005Z] handler: not json "invocation finished"`,
		`[2026-12-01T21:00:00.006Z] handler: {"level":"info","function":"ListProducts","ru":3,"message":"invocation finished"}`,
	} {
		c.line(l)
	}
	assert.Equal(t, []stageRU{{"Checkout", 1, 14}, {"ApplyTax", 2, 15}}, c.snapshot())
	c.reset()
	assert.Empty(t, c.snapshot())
}

func TestGeneratorNeverPromisesMoreStockThanListed(t *testing.T) {
	products := []product{{SKU: "A", Currency: "USD", Available: 5}, {SKU: "B", Currency: "USD", Available: 3}}
	g := newGenerator(products, 0, false, 7)
	n := 0
	for ; n < 100; n++ {
		if _, err := g.next(n); err != nil {
			break
		}
	}
	assert.Less(t, n, 100, "the generator stops once the stock is promised")
	assert.GreaterOrEqual(t, g.left["A"], 0)
	assert.GreaterOrEqual(t, g.left["B"], 0)
	assert.Less(t, g.left["A"]+g.left["B"], 2, "and it used what it could")
}

func TestGeneratorDeclinedShareAndExhaust(t *testing.T) {
	g := newGenerator([]product{{SKU: "A", Currency: "USD", Available: 1}}, 1, false, 1)
	for i := range 50 {
		body, err := g.next(i)
		require.NoError(t, err, "declined orders reserve nothing")
		assert.Contains(t, string(body), `"token":"tok_declined"`)
	}
	g = newGenerator([]product{{SKU: "A", Currency: "USD", Available: 1}}, 0, true, 1)
	for i := range 50 {
		_, err := g.next(i)
		require.NoError(t, err, "with exhaust it sells past the stock")
	}
}

func TestWaitingAtFollowsTheSaga(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	evs := []trackedEvent{{1, order.OrderPlaced, t0}, {2, order.TaxApplied, t0.Add(time.Second)},
		{3, order.PaymentCaptured, t0.Add(2 * time.Second)}, {4, order.FulfilmentFailed, t0.Add(3 * time.Second)},
		{5, order.PaymentRefunded, t0.Add(4 * time.Second)}, {6, order.OrderCancelled, t0.Add(4 * time.Second)}}
	for _, tc := range []struct {
		at   time.Duration
		want stage
		ok   bool
	}{{-time.Second, 0, false}, {500 * time.Millisecond, waitTax, true}, {1500 * time.Millisecond, waitPayment, true},
		{2500 * time.Millisecond, waitFulfil, true}, {3500 * time.Millisecond, waitRefund, true}, {5 * time.Second, 0, false}} {
		got, ok := waitingAt(evs, t0.Add(tc.at))
		assert.Equal(t, tc.ok, ok, tc.at)
		assert.Equal(t, tc.want, got, tc.at)
	}
}

func TestNiceCeil(t *testing.T) {
	for in, want := range map[float64]float64{0: 1, 1: 1, 3: 5, 7: 10, 12: 20, 130: 200, 4999: 5000} {
		assert.Equal(t, want, niceCeil(in), in)
	}
}

func TestMillionOrdersCost(t *testing.T) {
	assert.InDelta(t, 5.0, millionOrdersCost(20), 1e-9, "20 RU/order: 20 million RU at $0.25 per million")
	assert.Zero(t, millionOrdersCost(0))
}

func TestParseConfigRefusesWhatItCannotDo(t *testing.T) {
	for _, args := range [][]string{
		{"-orders", "0"},
		{"-clients", "0"},
		{"-declined", "2"},
		{"-base", "http://127.0.0.1:7071"},
		{"-base", "http://127.0.0.1:7071", "-cosmos", "AccountEndpoint=x", "-pprof-dir", "p"},
		{"-base", "http://127.0.0.1:7071", "-cosmos", "AccountEndpoint=x", "-checkout-only"},
		{"-base", "http://127.0.0.1:7071", "-cosmos", "AccountEndpoint=x", "-yield-checkouts", "16"},
		{"-base", "http://127.0.0.1:7071", "-cosmos", "AccountEndpoint=x", "-yield-checkouts", "0"},
		{"-yield-checkouts", "-2"},
		{"-yield-checkouts", "1025"},
	} {
		_, err := parseConfig(args)
		assert.Error(t, err, "%q", args)
	}
	c, err := parseConfig([]string{"-checkout-only"})
	require.NoError(t, err)
	assert.True(t, c.checkoutOnly)
	c, err = parseConfig([]string{"-yield-checkouts", "16"})
	require.NoError(t, err)
	assert.Equal(t, 16, c.yieldCheckouts)
	c, err = parseConfig([]string{"-yield-checkouts", "0"})
	require.NoError(t, err)
	assert.Zero(t, c.yieldCheckouts, "0 turns checkout first off")
	c, err = parseConfig(nil)
	require.NoError(t, err)
	assert.Equal(t, -1, c.yieldCheckouts, "unset: the handler's default")
}
