package handlers

import (
	"context"
	"sync/atomic"
	"time"
)

// Checkout first (STAGE_YIELD_CHECKOUTS): the change feed stages give way
// to a burst of checkouts. While at least `at` checkouts are in flight, or
// were within the last yieldHold, a stage starts neither a batch nor the
// next step of an order; it waits until checkout calms down, or at most
// yieldMost. Nothing is lost by waiting: the change feed keeps what the
// stages have not done, and they catch up once the burst is over, with the
// CPU the shoppers no longer need. The hold is there because checkouts
// finish in waves (the emulator commits many at once): without it every
// trough between two waves let all the stages' workers through.
//
// The price is the pipeline's lag, and yieldLag bounds it: a step on an
// event written yieldLag ago or earlier never waits, nor does a batch
// while the stages have lately met such events, so under a checkout load
// that does not calm down they fall about that far behind and then take
// their share of the CPU again. README, "Checkout first", has the
// measurements.
const (
	yieldHold = 50 * time.Millisecond
	yieldMost = 2 * time.Second
	yieldLag  = 5 * time.Second
	// behindFor is how long after meeting an event yieldLag old the
	// stages take it that they are behind (and batches do not wait).
	behindFor = time.Second
)

// yielder counts the checkouts in flight and holds the stages back while
// there are many. A nil or zero yielder never holds anything back.
type yielder struct {
	at int64 // 0: never yield

	inFlight    atomic.Int64
	lastBusy    atomic.Int64 // UnixNano of the last checkout that found at least `at` in flight
	behindUntil atomic.Int64 // UnixNano until which the stages count as behind

	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) // returns after d or when ctx ends
}

func newYielder(at int) *yielder {
	return &yielder{at: int64(at), now: time.Now, sleep: sleepCtx}
}

// checkout counts one checkout in flight until the returned func is called.
func (y *yielder) checkout() (done func()) {
	if y == nil || y.at <= 0 {
		return func() {}
	}
	if y.inFlight.Add(1) >= y.at {
		y.lastBusy.Store(y.now().UnixNano())
	}
	return func() { y.inFlight.Add(-1) }
}

// calmAt is when the stages may go on: now when checkout is quiet,
// otherwise yieldHold after it was last busy.
func (y *yielder) calmAt(now time.Time) time.Time {
	if y.inFlight.Load() >= y.at {
		return now.Add(yieldHold)
	}
	return time.Unix(0, y.lastBusy.Load()).Add(yieldHold)
}

// waitBatch returns when a stage may decode and start a batch: as wait,
// for a batch whose age is not known yet, unless the stages are behind.
func (y *yielder) waitBatch(ctx context.Context) {
	if y == nil || y.at <= 0 || y.now().UnixNano() < y.behindUntil.Load() {
		return
	}
	y.wait(ctx, y.now()) // taken as new: the wait is bounded by yieldMost only
}

// wait returns when a stage may take its next step on an event written at
// `written`: at once unless checkout is busy, or if the event is yieldLag
// old (the stages then count as behind for behindFor); else once checkout
// has calmed down, after yieldMost, when the event reaches yieldLag, or
// when ctx ends.
func (y *yielder) wait(ctx context.Context, written time.Time) {
	if y == nil || y.at <= 0 {
		return
	}
	now := y.now()
	behind := written.Add(yieldLag)
	if !now.Before(behind) {
		y.behindUntil.Store(now.Add(behindFor).UnixNano())
		return
	}
	giveUp := now.Add(yieldMost)
	if behind.Before(giveUp) {
		giveUp = behind
	}
	for ctx.Err() == nil {
		calm := y.calmAt(now)
		if !calm.After(now) || !now.Before(giveUp) {
			return
		}
		y.sleep(ctx, min(calm.Sub(now), giveUp.Sub(now)))
		now = y.now()
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
