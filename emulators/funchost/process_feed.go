package funchost

import (
	"context"
	"errors"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
)

// process reads the range's change feed from the lease's continuation,
// delivers each page and checkpoints it, until stop (shutdown: no new
// pages) or ctx (lease lost: abandon at once) ends.
func (l *listener) process(stop, ctx context.Context, hl *heldLease, r azcosmos.FeedRange) {
	var lastErr string
	for stop.Err() == nil && ctx.Err() == nil {
		page, err := l.feed.ReadChangeFeed(ctx, l.feedOptions(hl.snapshot(), r))
		if err != nil {
			if ctx.Err() == nil && err.Error() != lastErr {
				l.con.printf("%s: read change feed: %v", l.fn.Name, brief(err))
			}
			lastErr = err.Error()
			sleep(l.pollDelay, stop, ctx)
			continue
		}
		lastErr = ""
		if len(page.Items) == 0 {
			l.keepStartingPoint(ctx, hl, page.ContinuationToken)
			sleep(l.pollDelay, stop, ctx)
			continue
		}
		if !l.deliver(stop, ctx, hl, page.Items) {
			return
		}
		if err := hl.checkpoint(ctx, page.ContinuationToken); err != nil {
			if ctx.Err() == nil {
				l.con.printf("%s: checkpoint: %v", l.fn.Name, err)
			}
			if errors.Is(err, errLeaseLost) {
				return
			}
		}
	}
}

// feedOptions continues from the lease, or starts where function.json says.
func (l *listener) feedOptions(d leaseDoc, r azcosmos.FeedRange) *azcosmos.ChangeFeedOptions {
	o := &azcosmos.ChangeFeedOptions{MaxItemCount: int32(l.t.MaxItems)}
	if d.ContinuationToken != "" {
		o.Continuation = &d.ContinuationToken
		return o
	}
	o.FeedRange = &r
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
