package handlers

import (
	"context"
	"sync"
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
// their share of the CPU again.
//
// Giving way pays only when checkout is short of CPU, as in a flash sale
// whose shoppers come back as fast as they are served. When checkouts
// merely arrive in numbers the stack can serve (a steady load near
// capacity, whose queue forms in a stall), the stages give way, the queue
// empties within milliseconds, and all the stages bought is lag that a
// busy machine has no spare CPU to make up. So a surge must last a while
// before the stages give way to it, and one that calms down soon after
// they do was such a false alarm: the next must last twice as long, up
// to yieldOnMost; yieldForget of calm starts afresh. README, "Checkout
// first", has the measurements.
const (
	yieldHold = 50 * time.Millisecond
	yieldMost = 2 * time.Second
	yieldLag  = 5 * time.Second
	// behindFor is how long after meeting an event yieldLag old the
	// stages take it that they are behind (and batches do not wait).
	behindFor = time.Second

	// yieldOnLeast is how long a surge must last before the stages give
	// way to it, at first; each false alarm doubles it, to yieldOnMost.
	yieldOnLeast = 100 * time.Millisecond
	yieldOnMost  = 2 * time.Second
	// yieldProof is how long a surge must go on once the stages give way
	// for it not to count as a false alarm.
	yieldProof = 500 * time.Millisecond
	// yieldForget is the calm after which a surge waits yieldOnLeast again.
	yieldForget = 5 * time.Second
)

// yielder counts the checkouts in flight and holds the stages back while
// there are many. A nil or zero yielder never holds anything back.
type yielder struct {
	at int64 // 0: never yield

	inFlight    atomic.Int64
	lastBusy    atomic.Int64 // UnixNano of the last moment at least `at` checkouts were seen in flight
	behindUntil atomic.Int64 // UnixNano until which the stages count as behind

	mu        sync.Mutex   // held to begin and judge a surge
	surgeFrom atomic.Int64 // UnixNano of the first busy checkout of the latest surge
	onAfter   atomic.Int64 // how long a surge must last before the stages give way to it

	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) // returns after d or when ctx ends
}

func newYielder(at int) *yielder {
	y := &yielder{at: int64(at), now: time.Now, sleep: sleepCtx}
	y.onAfter.Store(int64(yieldOnLeast))
	return y
}

// checkout counts one checkout in flight until the returned func is called.
func (y *yielder) checkout() (done func()) {
	if y == nil || y.at <= 0 {
		return func() {}
	}
	if y.inFlight.Add(1) >= y.at {
		y.busy(y.now().UnixNano())
	}
	// One that ends with `at` in flight saw the surge go on until now, also
	// through a stall (a slow durable commit) in which none began.
	return func() {
		if y.inFlight.Add(-1) >= y.at-1 {
			y.lastBusy.Store(y.now().UnixNano())
		}
	}
}

// busy notes a checkout that found at least `at` in flight. One that comes
// more than yieldHold after the last begins a new surge, and the surge
// before it is judged.
func (y *yielder) busy(now int64) {
	last := y.lastBusy.Load()
	if now-last <= int64(yieldHold) {
		y.lastBusy.Store(now)
		return
	}
	y.mu.Lock()
	defer y.mu.Unlock()
	if last = y.lastBusy.Load(); now-last > int64(yieldHold) {
		y.onAfter.Store(y.nextOnAfter(last, now))
		y.surgeFrom.Store(now)
	}
	y.lastBusy.Store(now)
}

// nextOnAfter is how long the surge beginning now must last before the
// stages give way to it, given the one that was last busy at last.
func (y *yielder) nextOnAfter(last, now int64) int64 {
	on := y.onAfter.Load()
	gaveWay := last - (y.surgeFrom.Load() + on) // how long the stages gave way to it
	switch {
	case now-last >= int64(yieldForget):
		return int64(yieldOnLeast)
	case gaveWay > 0 && gaveWay < int64(yieldProof):
		return min(2*on, int64(yieldOnMost))
	}
	return on
}

// calmAt is when the stages may go on: now when checkout is quiet or its
// surge is too young to give way to, otherwise yieldHold after it was
// last busy.
func (y *yielder) calmAt(now time.Time) time.Time {
	if now.UnixNano() < y.surgeFrom.Load()+y.onAfter.Load() {
		return now
	}
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
