package funchost

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
)

// listener is the change feed processor of one cosmosDBTrigger function:
// one lease per feed range, shared with every other instance of the app on
// the same lease container, one worker per lease this instance holds.
type listener struct {
	fn        *function
	t         *cosmosTrigger
	feed      *azcosmos.ContainerClient
	leases    *leaseStore
	leaseDB   *azcosmos.DatabaseClient
	pollDelay time.Duration
	startedAt time.Time
	inv       *invoker
	con       *console
	me        string // this instance

	ranges  []azcosmos.FeedRange
	mu      sync.Mutex
	running map[string]bool   // lease ids with a running worker
	waiting map[string]string // lease id -> owner last reported as blocking us
	holding string            // the lease ids last reported as ours
	kick    chan struct{}     // run the next balancing round now
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func newListener(h *Host, f *function, instance string) *listener {
	t := f.Cosmos
	poll := t.FeedPollDelay
	if h.cfg.FeedPollDelay > 0 {
		poll = h.cfg.FeedPollDelay
	}
	if d := h.cfg.LeaseExpiration; d > 0 {
		t.LeaseExpiration, t.LeaseRenew, t.LeaseAcquire = d, d/3, d/4
	}
	leaseDB, _ := h.cosmos[t.LeaseConnection].NewDatabase(t.LeaseDatabase) // only fails on an empty id
	leases, _ := leaseDB.NewContainer(t.LeaseContainer)
	feedDB, _ := h.cosmos[t.Connection].NewDatabase(t.Database)
	feed, _ := feedDB.NewContainer(t.Container)
	store := &leaseStore{c: leases, owner: instance + "/" + f.Name, prefix: t.LeasePrefix,
		monitored: t.Database + "/" + t.Container, ttl: t.LeaseExpiration}
	return &listener{
		fn: f, t: t, feed: feed, leaseDB: leaseDB, pollDelay: poll, inv: h.inv, con: h.con, me: instance,
		leases: store, running: map[string]bool{}, waiting: map[string]string{}, kick: make(chan struct{}, 1),
	}
}

// start checks the containers and reads the feed ranges; run begins
// taking leases.
func (l *listener) start(ctx context.Context) error {
	if err := l.checkContainers(ctx); err != nil {
		return fmt.Errorf("%s: binding %q (cosmosDBTrigger): %w", l.fn.File, l.t.Name, err)
	}
	ranges, err := l.feed.ReadFeedRanges(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: read feed ranges of %s/%s: %w", l.fn.File, l.t.Database, l.t.Container, brief(err))
	}
	sort.Slice(ranges, func(i, j int) bool { return ranges[i].MinInclusive < ranges[j].MinInclusive })
	l.ranges, l.startedAt = ranges, time.Now().UTC()
	return nil
}

// run takes leases and processes them in the background until stop.
func (l *listener) run() {
	runCtx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	l.wg.Add(1)
	go l.balanceLoop(runCtx)
}

func (l *listener) checkContainers(ctx context.Context) error {
	if _, err := l.feed.Read(ctx, nil); isNotFound(err) {
		return fmt.Errorf("monitored container %s/%s does not exist", l.t.Database, l.t.Container)
	} else if err != nil {
		return fmt.Errorf("monitored container %s/%s: %w", l.t.Database, l.t.Container, brief(err))
	}
	resp, err := l.leases.c.Read(ctx, nil)
	if isNotFound(err) && l.t.CreateLeaseContainer {
		return l.createLeaseContainer(ctx)
	}
	if isNotFound(err) {
		return fmt.Errorf("lease container %s/%s does not exist; create it (partition key /id) or set createLeaseContainerIfNotExists", l.t.LeaseDatabase, l.t.LeaseContainer)
	}
	if err != nil {
		return fmt.Errorf("lease container %s/%s: %w", l.t.LeaseDatabase, l.t.LeaseContainer, brief(err))
	}
	if p := resp.ContainerProperties.PartitionKeyDefinition.Paths; len(p) != 1 || p[0] != "/id" {
		return fmt.Errorf("lease container %s/%s must be partitioned on /id, not %v", l.t.LeaseDatabase, l.t.LeaseContainer, p)
	}
	return nil
}

func (l *listener) createLeaseContainer(ctx context.Context) error {
	props := azcosmos.ContainerProperties{ID: l.t.LeaseContainer,
		PartitionKeyDefinition: azcosmos.PartitionKeyDefinition{Paths: []string{"/id"}}}
	_, err := l.leaseDB.CreateContainer(ctx, props, nil)
	if err != nil && statusCode(err) != http.StatusConflict {
		return fmt.Errorf("create lease container %s/%s: %w", l.t.LeaseDatabase, l.t.LeaseContainer, brief(err))
	}
	return nil
}

// stop ends every worker and releases the leases this host holds.
func (l *listener) stop() {
	if l.cancel != nil {
		l.cancel()
	}
	l.wg.Wait()
}

// work processes one leased range until shutdown, until the lease is
// lost, asked for or split. On shutdown the invocation in flight finishes
// and is checkpointed (within shutdownGrace) before the lease is handed
// back, as the real host drains; when another instance asks for the lease
// it is handed over at the next batch boundary, so the new owner starts
// after this worker stopped; losing the lease cancels at once.
func (l *listener) work(stop context.Context, hl *heldLease) {
	defer l.wg.Done()
	id := hl.snapshot().ID
	defer l.kickBalancer()
	defer l.setRunning(id, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := worker{stop: stop, lease: ctx, abandon: cancel}
	go cancelAfterGrace(w, cancel)
	go l.keepLease(ctx, cancel, hl)
	switch l.process(w, hl) {
	case endStopped:
		if err := hl.release(ctx); err != nil {
			l.con.printf("%s: release lease %s: %v", l.fn.Name, id, err)
		}
	case endAsked:
		l.handOver(ctx, hl)
	}
}

func (l *listener) handOver(ctx context.Context, hl *heldLease) {
	d := hl.snapshot()
	to, err := hl.handOver(ctx)
	if err != nil {
		l.con.printf("%s: hand lease %s over: %v", l.fn.Name, d.ID, err)
		return
	}
	l.con.printf("%s: %s handed lease %s over to %s", l.fn.Name, l.me, d.ID, instance(to))
}

const shutdownGrace = 10 * time.Second

// worker is the two lifetimes a lease worker runs under.
type worker struct {
	// stop ends when the worker must read no new page: the host is
	// shutting down, or (in process) another instance asked for the lease.
	// The batch in flight still finishes and is checkpointed.
	stop context.Context
	// lease ends when the lease is no longer safely ours: abandon at once,
	// write nothing.
	lease context.Context
	// abandon ends lease.
	abandon context.CancelFunc
}

// cancelAfterGrace cancels work that is still running shutdownGrace after
// the worker was told to stop.
func cancelAfterGrace(w worker, cancel context.CancelFunc) {
	select {
	case <-w.lease.Done():
		return
	case <-w.stop.Done():
	}
	select {
	case <-w.lease.Done():
	case <-time.After(shutdownGrace):
		cancel()
	}
}

// keepLease renews the lease and cancels the worker when it is lost or
// about to expire without a successful renewal.
func (l *listener) keepLease(ctx context.Context, cancel context.CancelFunc, hl *heldLease) {
	tick := time.NewTicker(l.t.LeaseRenew)
	defer tick.Stop()
	for {
		deadline := time.Until(hl.snapshot().ExpiresAt.Add(-l.t.LeaseExpiration / 10))
		select {
		case <-ctx.Done():
			return
		case <-time.After(deadline):
			l.con.printf("%s: lease %s expired before it could be renewed; stopping", l.fn.Name, hl.snapshot().ID)
			cancel()
			return
		case <-tick.C:
		}
		err := hl.renew(ctx)
		if errors.Is(err, errLeaseLost) {
			l.con.printf("%s: %v; stopping", l.fn.Name, err)
			cancel()
			return
		}
		if err != nil && ctx.Err() == nil {
			l.con.printf("%s: renew lease: %v", l.fn.Name, err)
		}
	}
}
