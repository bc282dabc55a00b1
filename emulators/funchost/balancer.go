package funchost

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
)

// balanceLoop runs a balancing round every leaseAcquireInterval, and at
// once when a worker ends, as the change feed processor's load balancer
// does: read every lease, decide what to take, take it.
func (l *listener) balanceLoop(ctx context.Context) {
	defer l.wg.Done()
	var lastErr string
	for {
		err := l.balanceOnce(ctx)
		if err != nil && ctx.Err() == nil && err.Error() != lastErr {
			l.con.printf("%s: balance leases: %v", l.fn.Name, err)
		}
		lastErr = fmt.Sprint(err)
		select {
		case <-ctx.Done():
			return
		case <-l.kick:
		case <-time.After(l.t.LeaseAcquire):
		}
	}
}

func (l *listener) kickBalancer() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

func (l *listener) balanceOnce(ctx context.Context) error {
	all, err := l.leases.list(ctx)
	if err != nil {
		return err
	}
	if missing := uncovered(l.ranges, all); len(missing) > 0 {
		if err := l.createLeases(ctx, missing); err != nil {
			return err
		}
		if all, err = l.leases.list(ctx); err != nil {
			return err
		}
	}
	p := planBalance(all, l.leases.owner, l.isRunning, time.Now().UTC())
	for _, d := range p.take {
		if err := l.take(ctx, d); err != nil {
			return err
		}
	}
	if p.ask != nil {
		if err := l.ask(ctx, *p.ask, p); err != nil {
			return err
		}
	}
	l.report(all, p)
	return nil
}

// createLeases creates a lease for each of the given feed ranges (by
// their index among the function's ranges); every instance may do so at
// once, and the ids are the same.
func (l *listener) createLeases(ctx context.Context, missing map[int]leaseRange) error {
	for i, r := range missing {
		token := strconv.Itoa(i)
		d := leaseDoc{ID: l.t.LeasePrefix + token, LeaseToken: token, Version: 1, FeedRange: r, Monitored: l.leases.monitored}
		if _, err := l.leases.create(ctx, d); err != nil && statusCode(err) != http.StatusConflict {
			return fmt.Errorf("create lease %s: %w", d.ID, err)
		}
	}
	return nil
}

// uncovered is the feed ranges, by index, that no lease overlaps: all of
// them for a function with no leases yet, and any whose creation failed
// part way through an earlier round (a throttled create), which would
// otherwise never be read. The children of a split lie within their
// parent's range, so a split lease's range stays covered.
func uncovered(ranges []azcosmos.FeedRange, all []listedLease) map[int]leaseRange {
	missing := map[int]leaseRange{}
	for i, fr := range ranges {
		r := leaseRange{Min: fr.MinInclusive, Max: fr.MaxExclusive}
		if !slices.ContainsFunc(all, func(l listedLease) bool { return l.FeedRange.overlaps(r) }) {
			missing[i] = r
		}
	}
	return missing
}

// take acquires a lease and starts its worker.
func (l *listener) take(ctx context.Context, d listedLease) error {
	hl, err := l.leases.take(ctx, d.leaseDoc, d.ETag)
	if err != nil || hl == nil {
		return err
	}
	l.con.printf("%s: %s took lease %s %s (%s)", l.fn.Name, l.me, d.ID, d.FeedRange, takeReason(d, l.leases.owner))
	l.setRunning(d.ID, true)
	l.wg.Add(1)
	go l.work(ctx, hl)
	return nil
}

func takeReason(d listedLease, me string) string {
	switch {
	case d.Owner == "":
		return "free"
	case d.free(time.Now()):
		return fmt.Sprintf("expired; %s held it until %s", instance(d.Owner), d.ExpiresAt.Format(time.RFC3339Nano))
	case d.Owner == me:
		return "handed over to it"
	default:
		return "held by " + instance(d.Owner)
	}
}

// ask requests a lease from the instance holding the most.
func (l *listener) ask(ctx context.Context, d listedLease, p balancePlan) error {
	ok, err := l.leases.request(ctx, d.leaseDoc, d.ETag)
	if err != nil || !ok {
		return err
	}
	l.con.printf("%s: %s asked %s for lease %s (%d leases, %d instances, target %d each, %s holds %d)",
		l.fn.Name, l.me, instance(d.Owner), d.ID, p.leases, p.workers, p.target, l.me, p.mine)
	return nil
}

// report prints the leases this instance holds whenever they change, and
// says once per owner why an instance holding nothing waits.
func (l *listener) report(all []listedLease, p balancePlan) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var mine []string
	for id := range l.running {
		mine = append(mine, id)
	}
	sort.Strings(mine)
	if now := strings.Join(mine, ", "); now != l.holding {
		l.holding = now
		l.con.printf("%s: %s holds %d of %d leases [%s] (%d instances, target %d each)", l.fn.Name, l.me, len(mine), p.leases, now, p.workers, p.target)
	}
	if len(mine) > 0 || len(p.take) > 0 || p.ask != nil {
		return
	}
	for _, d := range all {
		if d.Owner != "" && d.Owner != l.leases.owner && l.waiting[d.ID] != d.Owner {
			l.waiting[d.ID] = d.Owner
			l.con.printf("%s: lease %s is held by %s until %s; waiting for it", l.fn.Name, d.ID, instance(d.Owner), d.ExpiresAt.Format(time.RFC3339))
		}
	}
}

func (l *listener) isRunning(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.running[id]
}

func (l *listener) setRunning(id string, on bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if on {
		l.running[id] = true
		return
	}
	delete(l.running, id)
}
