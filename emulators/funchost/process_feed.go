package funchost

import (
	"context"
	"errors"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
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
// and waits pollDelay only after an empty one.
func (l *listener) process(w worker, hl *heldLease) workerEnd {
	ctx := w.lease
	yield, cancel := context.WithCancel(w.stop)
	defer cancel()
	go func() {
		select {
		case <-hl.asked:
			cancel()
		case <-yield.Done():
		}
	}()
	var lastErr string
	var ahead *feedPage // read while the last checkpoint was written
	for yield.Err() == nil && ctx.Err() == nil {
		page := ahead
		if page == nil {
			page = l.read(ctx, hl.snapshot())
		}
		ahead = nil
		resp, err := page.resp, page.err
		if children, gone := l.splitOf(resp.ContinuationToken, err); gone {
			if l.split(ctx, hl, children) {
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
		if len(resp.Items) == 0 {
			l.keepStartingPoint(ctx, hl, resp.ContinuationToken)
			sleep(l.pollDelay, yield, ctx)
			continue
		}
		if !l.deliver(worker{stop: yield, lease: ctx}, hl, resp.Items) {
			break
		}
		if ahead, err = l.checkpointAndRead(ctx, hl, resp.ContinuationToken); err != nil {
			if ctx.Err() == nil {
				l.con.printf("%s: checkpoint: %v", l.fn.Name, err)
			}
			if errors.Is(err, errLeaseLost) {
				return endLost
			}
		}
	}
	return l.why(w, hl)
}

// feedPage is the result of one change feed read.
type feedPage struct {
	resp azcosmos.ChangeFeedResponse
	err  error
}

// read reads the page after the lease's continuation d.
func (l *listener) read(ctx context.Context, d leaseDoc) *feedPage {
	resp, err := l.feed.ReadChangeFeed(ctx, l.feedOptions(d))
	return &feedPage{resp, err}
}

// checkpointAndRead checkpoints a delivered page and reads the next one
// at the same time: the read starts from the continuation being written,
// so it need not wait for the lease write (which, on the durable
// emulator, waits for an fsync). The page read is returned only when the
// checkpoint succeeded; otherwise the next read starts again from the
// lease, as it would have without reading ahead.
func (l *listener) checkpointAndRead(ctx context.Context, hl *heldLease, continuation string) (*feedPage, error) {
	d := hl.snapshot()
	d.ContinuationToken = continuation
	next := make(chan *feedPage, 1)
	go func() { next <- l.read(ctx, d) }()
	err := hl.checkpoint(ctx, continuation)
	page := <-next
	if err != nil {
		return nil, err
	}
	return page, nil
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
// when nothing changed yet, so a restart continues instead of starting over.
func (l *listener) keepStartingPoint(ctx context.Context, hl *heldLease, continuation string) {
	if continuation == "" || hl.snapshot().ContinuationToken != "" {
		return
	}
	if err := hl.checkpoint(ctx, continuation); err != nil && ctx.Err() == nil {
		l.con.printf("%s: checkpoint: %v", l.fn.Name, err)
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
