package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"github.com/ordersflow/orderpipeline/internal/feedpage"
	"github.com/ordersflow/orderpipeline/shared/order"
)

// tracker follows the orders container's change feed, as the stages do,
// and the lease container's, to know each order's events (with the server's
// times) and how far each stage has checkpointed.
type tracker struct {
	orders, leases *azcosmos.ContainerClient
	from           *time.Time // nil: from the beginning
	own            *ruCounter // request units of the tracker's own reads

	mu        sync.Mutex
	byID      map[string]*orderTrack
	pages     map[string][]pageMark // feed range (its minInclusive) → the pages read from it, in order
	kinds     map[string]int        // documents read by kind
	leaseAt   map[string]leaseMark  // lease id → its checkpoint
	feedError error
}

// orderTrack is one order's events in seq order.
type orderTrack struct {
	events []trackedEvent
	final  bool
}

type trackedEvent struct {
	seq int
	typ order.EventType
	at  time.Time
}

func newTracker(client *azcosmos.Client, s map[string]string, from *time.Time) (*tracker, error) {
	db := s["COSMOS_DATABASE"]
	orders, err := client.NewContainer(db, s["ORDERS_CONTAINER"])
	if err != nil {
		return nil, err
	}
	leases, err := client.NewContainer(db, s["LEASES_CONTAINER"])
	if err != nil {
		return nil, err
	}
	t := newTrackerState()
	t.orders, t.leases, t.from = orders, leases, from
	return t, nil
}

func newTrackerState() *tracker {
	return &tracker{own: &ruCounter{}, byID: map[string]*orderTrack{}, pages: map[string][]pageMark{},
		kinds: map[string]int{}, leaseAt: map[string]leaseMark{}}
}

// trackerIdle is how long the tracker waits after a round of reads that
// found it caught up: the figures come from the server's event times, so
// reading in bigger, rarer pages loses nothing but costs fewer requests
// (and fewer reads of the lease documents, which change with every batch).
const trackerIdle = 100 * time.Millisecond

// run reads both feeds until ctx ends; it reads again at once only while
// the orders feed has more than a page.
func (t *tracker) run(ctx context.Context) {
	ordersFeed := &feedReader{c: t.orders, from: t.from, ru: t.own, pageRead: t.addPage}
	leasesFeed := &feedReader{c: t.leases, ru: t.own}
	for ctx.Err() == nil {
		behind, err := ordersFeed.read(ctx, t.addOrderDoc)
		if err == nil {
			_, err = leasesFeed.read(ctx, t.addLease)
		}
		if err != nil && ctx.Err() == nil {
			t.mu.Lock()
			t.feedError = err
			t.mu.Unlock()
		}
		if !behind {
			select {
			case <-ctx.Done():
			case <-time.After(trackerIdle):
			}
		}
	}
}

// pageMark is one page the tracker read from a range: it started after
// LSN from, and the range's pages up to it held docs documents.
type pageMark struct {
	from uint64
	docs int
}

// addPage notes a page of n documents read from range r after LSN from.
func (t *tracker) addPage(r string, from uint64, n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	pages := t.pages[r]
	total := n
	if len(pages) > 0 {
		total += pages[len(pages)-1].docs
	}
	if n > 0 || len(pages) == 0 {
		t.pages[r] = append(pages, pageMark{from: from, docs: total})
	}
}

// addOrderDoc counts a document and keeps an event.
func (t *tracker) addOrderDoc(raw []byte) error {
	d, err := readFeedDoc(raw)
	if err != nil {
		return fmt.Errorf("decode orders document: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.kinds[d.Kind]++
	if d.Kind != order.KindEvent {
		return nil
	}
	o := t.byID[d.OrderID]
	if o == nil {
		o = &orderTrack{}
		t.byID[d.OrderID] = o
	}
	o.add(trackedEvent{seq: d.Seq, typ: d.Type, at: d.At})
	return nil
}

// add inserts e in seq order; events mostly arrive in order, so it is
// usually appended.
func (o *orderTrack) add(e trackedEvent) {
	i := len(o.events)
	for i > 0 && o.events[i-1].seq > e.seq {
		i--
	}
	o.events = slices.Insert(o.events, i, e)
	o.final = isFinal(o.events[len(o.events)-1].typ)
}

func isFinal(t order.EventType) bool { return t == order.OrderFulfilled || t == order.OrderCancelled }

// leaseDoc is the part of a lease document the tracker reads.
type leaseDoc struct {
	ID                string `json:"id"`
	LeaseToken        string `json:"LeaseToken"`
	ContinuationToken string `json:"ContinuationToken"`
}

func (t *tracker) addLease(raw []byte) error {
	var d leaseDoc
	if err := json.Unmarshal(raw, &d); err != nil {
		return fmt.Errorf("decode lease: %w", err)
	}
	if d.LeaseToken == "" || d.ContinuationToken == "" {
		return nil
	}
	at, err := continuationLSNs(d.ContinuationToken)
	if err != nil {
		return nil // a host with another token format: its lag shows as unknown ("-")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.leaseAt[d.ID] = leaseMark{prefix: strings.TrimSuffix(d.ID, d.LeaseToken), at: at}
	return nil
}

// leaseMark is where a stage's lease has checkpointed.
type leaseMark struct {
	prefix string // leaseContainerPrefix ("tax-")
	at     []rangeLSN
}

// rangeLSN is where a continuation is in one feed range.
type rangeLSN struct {
	min string // the range's minInclusive
	lsn uint64
}

// continuationLSNs reads the ranges and LSNs out of an azcosmos change
// feed continuation
// ({"continuation":[{"minInclusive":"","continuationToken":"\"<lsn>\"",…}]}).
func continuationLSNs(token string) ([]rangeLSN, error) {
	var c struct {
		Continuation []struct {
			MinInclusive      string `json:"minInclusive"`
			ContinuationToken string `json:"continuationToken"`
		} `json:"continuation"`
	}
	if err := json.Unmarshal([]byte(token), &c); err != nil || len(c.Continuation) == 0 {
		return nil, fmt.Errorf("continuation %q is not an azcosmos change feed token", token)
	}
	out := make([]rangeLSN, len(c.Continuation))
	for i, r := range c.Continuation {
		n, err := strconv.ParseUint(strings.Trim(r.ContinuationToken, `"`), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("continuation %q: %w", token, err)
		}
		out[i] = rangeLSN{min: r.MinInclusive, lsn: n}
	}
	return out, nil
}

// feedReader reads one container's change feed, range by range.
type feedReader struct {
	c    *azcosmos.ContainerClient
	ru   *ruCounter // what bench-load's own reads were charged; may be nil
	from *time.Time
	page int32 // the most documents one request returns; 0 is feedPage
	// pageRead, if set, is told of every page read: the range's
	// minInclusive, the LSN the page began after (0: the start) and how
	// many documents it held.
	pageRead func(rangeMin string, from uint64, docs int)
	ranges   []azcosmos.FeedRange
	tokens   []string
}

// feedPage is the most documents the tracker reads in one request.
const feedPage = 1000

// read reads one page from every range and hands each document to fn. It
// reports whether a range had a full page (more is waiting).
func (f *feedReader) read(ctx context.Context, fn func([]byte) error) (bool, error) {
	if f.ranges == nil {
		ranges, err := f.c.ReadFeedRanges(ctx, nil)
		if err != nil {
			return false, fmt.Errorf("read feed ranges: %w", err)
		}
		f.ranges, f.tokens = ranges, make([]string, len(ranges))
	}
	page := f.page
	if page == 0 {
		page = feedPage
	}
	behind := false
	for i := range f.ranges {
		opts := &azcosmos.ChangeFeedOptions{FeedRange: &f.ranges[i], MaxItemCount: page}
		if f.tokens[i] != "" {
			opts.Continuation = &f.tokens[i]
		} else if f.from != nil {
			opts.StartFrom = f.from
		}
		pctx, captured := feedpage.Capture(ctx)
		resp, err := f.c.ReadChangeFeed(pctx, opts)
		if err != nil {
			return behind, fmt.Errorf("read change feed: %w", err)
		}
		if f.ru != nil {
			f.ru.add(resp.RequestCharge)
		}
		docs := captured.Documents(resp)
		for _, doc := range docs {
			if err := fn(doc); err != nil {
				return behind, err
			}
		}
		f.notePage(i, len(docs))
		behind = behind || len(docs) >= int(page)
		if resp.ContinuationToken != "" {
			f.tokens[i] = resp.ContinuationToken
		}
	}
	return behind, nil
}

// notePage tells pageRead of a page of range i, before its token moves on.
func (f *feedReader) notePage(i, docs int) {
	if f.pageRead == nil {
		return
	}
	from := uint64(0)
	if at, err := continuationLSNs(f.tokens[i]); err == nil && len(at) == 1 {
		from = at[0].lsn
	}
	f.pageRead(f.ranges[i].MinInclusive, from, docs)
}

// stage is where an order waits, named after the function that moves it on.
type stage int

const (
	waitTax     stage = iota // OrderPlaced: ApplyTax
	waitPayment              // TaxApplied: ProcessPayment charges
	waitFulfil               // PaymentCaptured: FulfilOrder
	waitRefund               // FulfilmentFailed: ProcessPayment refunds
	waitCancel               // PaymentDeclined or PaymentRefunded written, OrderCancelled not yet
	numStages
)

var stageNames = [numStages]string{"tax", "payment", "fulfil", "refund", "cancel"}

// stageAfter is where an order waits once t is its latest event.
func stageAfter(t order.EventType) stage {
	switch t {
	case order.OrderPlaced:
		return waitTax
	case order.TaxApplied:
		return waitPayment
	case order.PaymentCaptured:
		return waitFulfil
	case order.FulfilmentFailed:
		return waitRefund
	default:
		return waitCancel
	}
}

// leasePrefixes are the stages' leaseContainerPrefix values, in order.
var leasePrefixes = []string{"tax-", "payment-", "fulfil-", "publish-"}

// progress is the tracker's view now.
type progress struct {
	seen, final int
	waiting     [numStages]int
	unread      map[string]int // lease prefix → documents of the orders feed the stage has not checkpointed
	err         error
}

func (t *tracker) progress() progress {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := progress{seen: len(t.byID), err: t.feedError}
	for _, o := range t.byID {
		if o.final {
			p.final++
			continue
		}
		p.waiting[stageAfter(o.events[len(o.events)-1].typ)]++
	}
	p.unread = t.unread()
	return p
}

// unread counts, for each lease prefix, the documents that the tracker
// read after the checkpoint of each of that stage's leases, in the lease's
// range. The feed's documents carry no LSN (the emulator serves no _lsn)
// and LSNs are the container's, not the range's: so only pages that began
// at or after the checkpoint count, and the figure is a lower bound, off by
// at most the one page (of the tracker's reads) the checkpoint falls in. A
// stage with a lease on a range the tracker does not read (a split) is left
// out: unknown.
func (t *tracker) unread() map[string]int {
	out, unknown := map[string]int{}, map[string]bool{}
	for _, l := range t.leaseAt {
		for _, r := range l.at {
			pages, ok := t.pages[r.min]
			if !ok {
				unknown[l.prefix] = true
				continue
			}
			out[l.prefix] += docsAfter(pages, r.lsn)
		}
	}
	for prefix := range unknown {
		delete(out, prefix)
	}
	return out
}

// docsAfter is how many documents the pages that began at or after lsn
// hold.
func docsAfter(pages []pageMark, lsn uint64) int {
	i, _ := slices.BinarySearchFunc(pages, lsn, func(p pageMark, lsn uint64) int { return cmp.Compare(p.from, lsn) })
	if i == 0 {
		return pages[len(pages)-1].docs
	}
	if i == len(pages) {
		return 0
	}
	return pages[len(pages)-1].docs - pages[i-1].docs
}

// snapshot copies every tracked order's events.
func (t *tracker) snapshot() (map[string][]trackedEvent, map[string]int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string][]trackedEvent, len(t.byID))
	for id, o := range t.byID {
		out[id] = append([]trackedEvent(nil), o.events...)
	}
	kinds := make(map[string]int, len(t.kinds))
	for k, n := range t.kinds {
		kinds[k] = n
	}
	return out, kinds
}
