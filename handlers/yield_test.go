package handlers

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// fakeClock is a yielder's clock: sleeping advances it, and each sleep is
// reported on slept (when not nil) and waits for a word on resume.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	slept  chan time.Duration
	resume chan struct{}
	total  time.Duration
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) sleep(_ context.Context, d time.Duration) {
	if c.slept != nil {
		c.slept <- d
		<-c.resume
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.total += d
}

// advance moves the clock on without anyone sleeping.
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// within returns what ch gives, failing the test if that takes more than
// a generous 10 s (a stage that never waited, or never stopped waiting).
func within[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("nothing came within 10 s")
		panic("unreachable")
	}
}

func yielderOn(at int, c *fakeClock) *yielder {
	y := newYielder(at)
	y.now, y.sleep = c.now, c.sleep
	return y
}

func TestStagesGoOnWhileCheckoutIsQuiet(t *testing.T) {
	c := &fakeClock{t: testNow}
	y := yielderOn(2, c)
	done := y.checkout() // one in flight: below the mark
	y.wait(context.Background(), testNow)
	done()
	y.wait(context.Background(), testNow)
	assert.Zero(t, c.total, "no stage waited")
}

func TestStagesWaitUntilABurstOfCheckoutsCalmsDown(t *testing.T) {
	c := &fakeClock{t: testNow, slept: make(chan time.Duration), resume: make(chan struct{})}
	y := yielderOn(2, c)
	first, second := y.checkout(), y.checkout()
	c.advance(yieldOnLeast) // a surge old enough to give way to
	waited := make(chan struct{})
	go func() {
		y.wait(context.Background(), testNow)
		close(waited)
	}()

	assert.Equal(t, yieldHold, within(t, c.slept), "two in flight: the stage waits")
	c.resume <- struct{}{}
	assert.Equal(t, yieldHold, within(t, c.slept), "still two in flight: it waits again")
	first()
	second()
	c.resume <- struct{}{}
	// Both checkouts ended after the second sleep began, at its start on the
	// clock; the sleep ended yieldHold after that, so checkout is calm now.
	within(t, waited)
	assert.Equal(t, 2*yieldHold, c.total)
}

func TestAStageWaitsAtMostYieldMost(t *testing.T) {
	c := &fakeClock{t: testNow}
	y := yielderOn(1, c)
	defer y.checkout()() // a checkout that never ends
	c.advance(yieldOnLeast)
	y.wait(context.Background(), c.now())
	assert.Equal(t, yieldMost, c.total)
}

func TestAStageThatFellBehindDoesNotWait(t *testing.T) {
	c := &fakeClock{t: testNow}
	y := yielderOn(1, c)
	defer y.checkout()()
	c.advance(yieldOnLeast)
	y.wait(context.Background(), c.now().Add(-yieldLag))
	assert.Zero(t, c.total, "an event yieldLag old goes on at once")
	y.wait(context.Background(), c.now().Add(-yieldLag+yieldMost/2))
	assert.Equal(t, yieldMost/2, c.total, "a younger one waits until it is yieldLag old")
}

func TestBatchesDoNotWaitWhileTheStagesAreBehind(t *testing.T) {
	c := &fakeClock{t: testNow}
	y := yielderOn(1, c)
	defer y.checkout()()
	c.advance(yieldOnLeast)
	y.waitBatch(context.Background())
	assert.Equal(t, yieldMost, c.total, "a batch waits while checkout is busy")
	y.wait(context.Background(), c.now().Add(-yieldLag)) // a step meets an old event
	y.waitBatch(context.Background())
	assert.Equal(t, yieldMost, c.total, "the next batch goes on at once")
	c.sleep(context.Background(), behindFor)
	y.waitBatch(context.Background())
	assert.Equal(t, yieldMost+behindFor+yieldMost, c.total, "behindFor later batches wait again")
}

func TestAStageStopsWaitingWhenItsInvocationEnds(t *testing.T) {
	c := &fakeClock{t: testNow, slept: make(chan time.Duration), resume: make(chan struct{})}
	y := yielderOn(1, c)
	defer y.checkout()()
	c.advance(yieldOnLeast)
	ctx, cancel := context.WithCancel(context.Background())
	waited := make(chan struct{})
	go func() {
		y.wait(ctx, testNow)
		close(waited)
	}()
	within(t, c.slept)
	cancel()
	c.resume <- struct{}{}
	within(t, waited)
	assert.Equal(t, yieldHold, c.total, "one sleep, not yieldMost of them")
}

func TestZeroNeverYields(t *testing.T) {
	c := &fakeClock{t: testNow}
	y := yielderOn(0, c)
	defer y.checkout()()
	defer y.checkout()()
	y.wait(context.Background(), testNow)
	assert.Zero(t, c.total)
	assert.Zero(t, y.inFlight.Load(), "nothing is counted when it is off")

	var none *yielder
	none.checkout()()
	none.wait(context.Background(), testNow)
	none.waitBatch(context.Background())
}

// blockingPlacements holds CreateOrder until release is closed, once armed.
type blockingPlacements struct {
	*memOrders
	armed   bool
	entered chan struct{}
	release chan struct{}
}

func (b *blockingPlacements) CreateOrder(ctx context.Context, o order.Order, ev order.Event) error {
	if b.armed {
		close(b.entered)
		<-b.release
	}
	return b.memOrders.CreateOrder(ctx, o, ev)
}

func TestAStageGivesWayToACheckoutInFlight(t *testing.T) {
	var placements *blockingPlacements
	f := newFixture(t, func(d *Deps) {
		placements = &blockingPlacements{memOrders: d.Placements.(*memOrders), entered: make(chan struct{}), release: make(chan struct{})}
		d.Placements = placements
		d.StageYieldCheckouts = 1
	})
	c := &fakeClock{t: testNow, slept: make(chan time.Duration, 1), resume: make(chan struct{})}
	f.srv.yield.now, f.srv.yield.sleep = c.now, c.sleep
	id := f.placeOrder(t, "tok_visa", 1)
	placed, err := f.store.Event(context.Background(), id, order.OrderPlaced)
	require.NoError(t, err)

	c.advance(yieldForget) // that checkout's surge is long over
	placements.armed = true
	checkedOut := make(chan struct{})
	go func() {
		defer close(checkedOut)
		f.placeOrder(t, "tok_visa", 1)
	}()
	within(t, placements.entered) // a checkout is in flight
	c.advance(yieldOnLeast)       // long enough to give way to

	taxed := make(chan int)
	go func() { taxed <- f.invoke("ApplyTax", envelopeFor(t, &RetryContext{MaxRetryCount: 5}, placed)).Code }()
	assert.Equal(t, yieldHold, within(t, c.slept), "ApplyTax waits for the checkout")
	assert.Equal(t, []order.EventType{order.OrderPlaced}, f.store.types(id), "and has not run")

	close(placements.release)
	within(t, checkedOut)
	c.resume <- struct{}{}
	assert.Equal(t, http.StatusOK, within(t, taxed))
	assert.Equal(t, []order.EventType{order.OrderPlaced, order.TaxApplied}, f.store.types(id))
}

func TestOldestIsTheEarliestDecodedEvent(t *testing.T) {
	at := func(s int) order.Event { return order.Event{At: testNow.Add(time.Duration(s) * time.Second)} }
	got := oldest([][]item{
		{{ev: at(5)}},
		{{err: assert.AnError}},    // undecodable: no time of its own
		{{ev: at(2)}, {ev: at(1)}}, // a stream's first event is its earliest
		{{ev: at(3)}},
	})
	assert.Equal(t, testNow.Add(2*time.Second), got)
	assert.True(t, oldest([][]item{{{err: assert.AnError}}}).IsZero())
}

// goesOn reports whether a stage would go on at once, without waiting.
func goesOn(c *fakeClock, y *yielder) bool {
	before := c.total
	y.wait(context.Background(), c.now())
	return c.total == before
}

func TestAYoungSurgeDoesNotHoldTheStagesBack(t *testing.T) {
	c := &fakeClock{t: testNow}
	y := yielderOn(1, c)
	defer y.checkout()()
	assert.True(t, goesOn(c, y), "a surge that has just begun")
	c.advance(yieldOnLeast - time.Millisecond)
	assert.True(t, goesOn(c, y), "still younger than yieldOnLeast")
	c.advance(time.Millisecond)
	assert.False(t, goesOn(c, y), "yieldOnLeast old: the stages give way")
}

// surge makes a surge of busy checkouts, one every yieldHold, that goes on
// for `gaveWay` once the stages give way to it, and ends it with a calm of
// yieldHold and a little more.
func surge(c *fakeClock, y *yielder, gaveWay time.Duration) {
	start := c.now()
	y.checkout()() // begins the surge, and judges the one before
	d := time.Duration(y.onAfter.Load()) + gaveWay
	for c.advance(yieldHold); c.now().Sub(start) <= d; c.advance(yieldHold) {
		y.checkout()()
	}
	c.advance(yieldHold + time.Millisecond)
}

func TestASurgeThatCalmsSoonAfterTheStagesGiveWayIsAFalseAlarm(t *testing.T) {
	c := &fakeClock{t: testNow}
	y := yielderOn(1, c)
	surge(c, y, yieldHold) // the stages gave way for yieldHold, then it calmed

	done := y.checkout()
	defer done()
	c.advance(yieldOnLeast)
	assert.True(t, goesOn(c, y), "the next surge must last twice as long")
	c.advance(yieldOnLeast)
	assert.False(t, goesOn(c, y), "and then the stages give way")
}

func TestFalseAlarmsWaitAtMostYieldOnMost(t *testing.T) {
	c := &fakeClock{t: testNow}
	y := yielderOn(1, c)
	for range 10 {
		surge(c, y, yieldHold)
	}
	done := y.checkout()
	defer done()
	assert.Equal(t, int64(yieldOnMost), y.onAfter.Load())
	c.advance(yieldOnMost)
	assert.False(t, goesOn(c, y), "a surge yieldOnMost old is given way to")
}

func TestASurgeThatGoesOnKeepsTheStagesGivingWay(t *testing.T) {
	c := &fakeClock{t: testNow}
	y := yielderOn(1, c)
	surge(c, y, yieldProof) // checkout stayed busy while the stages gave way

	done := y.checkout()
	defer done()
	c.advance(yieldOnLeast)
	assert.False(t, goesOn(c, y), "the next surge is given way to as soon")
}

func TestCalmForgetsFalseAlarms(t *testing.T) {
	c := &fakeClock{t: testNow}
	y := yielderOn(1, c)
	for range 3 {
		surge(c, y, yieldHold)
	}
	// Each surge is judged when the next begins: two so far.
	require.Equal(t, int64(4*yieldOnLeast), y.onAfter.Load(), "two false alarms judged")

	c.advance(yieldForget)
	done := y.checkout()
	defer done()
	c.advance(yieldOnLeast)
	assert.False(t, goesOn(c, y), "after yieldForget of calm a surge is given way to as soon as at first")
}

func TestAStallInASurgeDoesNotEndIt(t *testing.T) {
	c := &fakeClock{t: testNow}
	y := yielderOn(2, c)
	first, second := y.checkout(), y.checkout()
	c.advance(yieldOnLeast)
	require.False(t, goesOn(c, y), "the stages give way to the surge")

	c.advance(3 * yieldHold) // a slow commit: no checkout begins or ends
	first()                  // it ends with two in flight: the surge went on
	defer second()
	defer y.checkout()()
	assert.False(t, goesOn(c, y), "the checkout after the stall belongs to the same surge")
}
