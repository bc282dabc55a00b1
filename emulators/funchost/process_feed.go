package funchost

import (
	"context"
	"errors"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"github.com/ordersflow/orderpipeline/internal/feedpage"
)

// workerEnd says why a worker stopped.
type workerEnd int

const (
	endStopped workerEnd = iota // the host is stopping: release the lease
	endLost                     // another instance owns the lease
	endAsked                    // another instance asked for it: hand it over
	endSplit                    // the range split: child leases replace it
)

// process reads the range's change feed from the lease's continuation,
// delivers each page and checkpoints it, until stop (shutdown: no new
// pages), ctx (lease lost: abandon at once), a request for the lease
// (hand it over after the batch in flight) or a split ends. As the change
// feed processor does, it reads again at once after a page with documents
// and waits pollDelay only after an empty one. One batch is in flight at a
// time. After a full page (more is waiting) its checkpoint is written
// while the next page is read and delivered; after a shorter one the feed
// is drained, and the next read waits for the checkpoint, as the change
// feed processor's does, rather than come too soon to find anything.
func (l *listener) process(w worker, hl *heldLease) workerEnd {
	ctx := w.lease
	yield, cancel := yieldWhenAsked(w.stop, hl)
	defer cancel()
	cp := l.newCheckpoints(w, hl)
	var lastErr string
	for yield.Err() == nil && ctx.Err() == nil {
		pctx, page := feedpage.Capture(ctx)
		resp, err := l.feed.ReadChangeFeed(pctx, l.feedOptions(cp.at()))
		docs := page.Documents(resp)
		if children, gone := l.splitOf(resp.ContinuationToken, err); gone {
			if !l.checkpointed(ctx, cp) {
				return endLost
			}
			if l.split(ctx, hl, children) { // the children start from the last checkpoint
				return endSplit
			}
			sleep(l.pollDelay, yield, ctx)
			continue
		}
		if err != nil {
			if ctx.Err() == nil && err.Error() != lastErr {
				l.con.printf("%s: read change feed: %v", l.fn.Name, brief(err))
			}
			lastErr = err.Error()
			sleep(l.pollDelay, yield, ctx)
			continue
		}
		lastErr = ""
		if len(docs) == 0 {
			l.keepStartingPoint(ctx, cp, resp.ContinuationToken)
			sleep(l.pollDelay, yield, ctx)
			continue
		}
		if !l.deliver(worker{stop: yield, lease: ctx}, hl, docs) {
			break
		}
		if err := cp.start(ctx, resp.ContinuationToken); err != nil && !l.checkpointFailed(ctx, err) {
			return endLost
		}
		if len(docs) < l.pageSize() && !l.checkpointed(ctx, cp) {
			return endLost
		}
	}
	if !l.checkpointed(ctx, cp) {
		return endLost
	}
	return l.why(w, hl)
}

// pageSize is the most documents a read returns: maxItemsPerInvocation,
// by default the extension's 100.
func (l *listener) pageSize() int {
	if l.t.MaxItems > 0 {
		return l.t.MaxItems
	}
	return 100
}

// yieldWhenAsked is stop, ended as well when another instance asks for
// the lease.
func yieldWhenAsked(stop context.Context, hl *heldLease) (context.Context, context.CancelFunc) {
	yield, cancel := context.WithCancel(stop)
	go func() {
		select {
		case <-hl.asked:
			cancel()
		case <-yield.Done():
		}
	}()
	return yield, cancel
}

func (l *listener) newCheckpoints(w worker, hl *heldLease) *checkpoints {
	return &checkpoints{hl: hl, cont: hl.snapshot().ContinuationToken, lost: func(err error) {
		w.abandon() // the batch in flight, if any, is abandoned at once
		l.con.printf("%s: checkpoint: %v; stopping", l.fn.Name, err)
	}}
}

// checkpointed waits for the checkpoint in flight; it returns false when
// it found the lease lost.
func (l *listener) checkpointed(ctx context.Context, cp *checkpoints) bool {
	err := cp.wait()
	return err == nil || l.checkpointFailed(ctx, err)
}

// checkpointFailed reports a failed checkpoint; it returns false when the
// lease is lost. Otherwise the next checkpoint covers this one's batch.
func (l *listener) checkpointFailed(ctx context.Context, err error) bool {
	if ctx.Err() == nil {
		l.con.printf("%s: checkpoint: %v", l.fn.Name, err)
	}
	return !errors.Is(err, errLeaseLost)
}

// checkpoints writes a lease's checkpoints in the background, one at a
// time and in order, so that the next page is read and delivered while the
// last batch's checkpoint is written (on the durable emulator the write
// waits for an fsync).
type checkpoints struct {
	hl      *heldLease
	lost    func(error) // called as soon as a checkpoint finds the lease lost
	cont    string      // the continuation after the last delivered batch
	pending chan error  // the checkpoint in flight; nil when none
	unsaved bool        // the last checkpoint failed: the lease is behind cont
}

// at is the lease as the next read must see it: at cont.
func (c *checkpoints) at() leaseDoc {
	d := c.hl.snapshot()
	d.ContinuationToken = c.cont
	return d
}

// start waits for the checkpoint in flight and returns its error, then
// writes cont in the background.
func (c *checkpoints) start(ctx context.Context, cont string) error {
	err := c.wait()
	done := make(chan error, 1)
	go func() {
		err := c.hl.checkpoint(ctx, cont)
		if errors.Is(err, errLeaseLost) && ctx.Err() == nil {
			c.lost(err)
		}
		done <- err
	}()
	c.cont, c.pending = cont, done
	return err
}

// wait returns the result of the checkpoint in flight, if any.
func (c *checkpoints) wait() error {
	if c.pending == nil {
		return nil
	}
	err := <-c.pending
	c.pending, c.unsaved = nil, err != nil
	return err
}

func (l *listener) why(w worker, hl *heldLease) workerEnd {
	switch {
	case w.lease.Err() != nil:
		return endLost
	case w.stop.Err() != nil:
		return endStopped
	case hl.requested():
		return endAsked
	}
	return endLost // the lease is about to expire unrenewed: stop, write nothing
}

// feedOptions continues from the lease, or starts where function.json says.
func (l *listener) feedOptions(d leaseDoc) *azcosmos.ChangeFeedOptions {
	o := &azcosmos.ChangeFeedOptions{MaxItemCount: int32(l.t.MaxItems)}
	if d.ContinuationToken != "" {
		o.Continuation = &d.ContinuationToken
		return o
	}
	o.FeedRange = &azcosmos.FeedRange{MinInclusive: d.FeedRange.Min, MaxExclusive: d.FeedRange.Max}
	switch {
	case l.t.StartFromTime != nil:
		o.StartFrom = l.t.StartFromTime
	case !l.t.StartFromBeginning:
		o.StartFrom = &l.startedAt
	}
	return o
}

// keepStartingPoint stores the first continuation of a fresh lease even
// when nothing changed yet, so a restart continues instead of starting
// over. Once the feed has nothing more, it also writes again a checkpoint
// that failed.
func (l *listener) keepStartingPoint(ctx context.Context, cp *checkpoints, continuation string) {
	if err := cp.wait(); err != nil {
		l.checkpointFailed(ctx, err)
		return // still unsaved: the next empty read tries again
	}
	fresh := cp.cont == "" && continuation != ""
	if !fresh && !cp.unsaved {
		return
	}
	if fresh {
		cp.cont = continuation
	}
	_ = cp.start(ctx, cp.cont) // nothing is in flight
	if err := cp.wait(); err != nil {
		l.checkpointFailed(ctx, err)
	}
}

// sleep waits d; it returns false early when any of ctxs ends.
func sleep(d time.Duration, ctxs ...context.Context) bool {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, c := range ctxs {
		defer context.AfterFunc(c, cancel)()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
