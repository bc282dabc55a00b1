package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

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
	head      uint64            // orders feed continuation LSN the tracker has read up to
	kinds     map[string]int    // documents read by kind
	leaseLSN  map[string]uint64 // lease prefix ("tax-") → checkpointed LSN
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

// feedDoc is the part of an orders document the tracker reads.
type feedDoc struct {
	OrderID string          `json:"orderId"`
	Kind    string          `json:"kind"`
	Type    order.EventType `json:"type"`
	Seq     int             `json:"seq"`
	At      time.Time       `json:"at"`
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
	return &tracker{orders: orders, leases: leases, from: from, own: &ruCounter{}, byID: map[string]*orderTrack{},
		kinds: map[string]int{}, leaseLSN: map[string]uint64{}}, nil
}

const trackerIdle = 100 * time.Millisecond

// run reads both feeds until ctx ends.
func (t *tracker) run(ctx context.Context) {
	ordersFeed := &feedReader{c: t.orders, from: t.from, ru: t.own}
	leasesFeed := &feedReader{c: t.leases, ru: t.own}
	for ctx.Err() == nil {
		n, err := ordersFeed.read(ctx, t.addOrderDoc)
		if err == nil {
			err = t.setHead(ordersFeed.tokens)
		}
		if err == nil {
			_, err = leasesFeed.read(ctx, t.addLease)
		}
		if err != nil && ctx.Err() == nil {
			t.mu.Lock()
			t.feedError = err
			t.mu.Unlock()
		}
		if n == 0 {
			select {
			case <-ctx.Done():
			case <-time.After(trackerIdle):
			}
		}
	}
}

func (t *tracker) setHead(tokens []string) error {
	if len(tokens) != 1 || tokens[0] == "" {
		return nil // the lag needs one range; the emulator has one
	}
	lsn, err := continuationLSN(tokens[0])
	if err != nil {
		return err
	}
	t.mu.Lock()
	t.head = lsn
	t.mu.Unlock()
	return nil
}

func (t *tracker) addOrderDoc(raw []byte) error {
	var d feedDoc
	if err := json.Unmarshal(raw, &d); err != nil {
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

func (o *orderTrack) add(e trackedEvent) {
	o.events = append(o.events, e)
	sort.Slice(o.events, func(i, j int) bool { return o.events[i].seq < o.events[j].seq })
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
	lsn, err := continuationLSN(d.ContinuationToken)
	if err != nil {
		return nil // a host with another token format: its lag shows as unknown ("-")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.leaseLSN[strings.TrimSuffix(d.ID, d.LeaseToken)] = lsn
	return nil
}

// continuationLSN reads the LSN out of an azcosmos change feed continuation
// ({"continuation":[{"continuationToken":"\"<lsn>\"",…}]}); with several
// ranges it is the lowest.
func continuationLSN(token string) (uint64, error) {
	var c struct {
		Continuation []struct {
			ContinuationToken string `json:"continuationToken"`
		} `json:"continuation"`
	}
	if err := json.Unmarshal([]byte(token), &c); err != nil || len(c.Continuation) == 0 {
		return 0, fmt.Errorf("continuation %q is not an azcosmos change feed token", token)
	}
	low := uint64(0)
	for i, r := range c.Continuation {
		n, err := strconv.ParseUint(strings.Trim(r.ContinuationToken, `"`), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("continuation %q: %w", token, err)
		}
		if i == 0 || n < low {
			low = n
		}
	}
	return low, nil
}

// feedReader reads one container's change feed, range by range.
type feedReader struct {
	c      *azcosmos.ContainerClient
	ru     *ruCounter // what bench-load's own reads were charged; may be nil
	from   *time.Time
	ranges []azcosmos.FeedRange
	tokens []string
}

// read reads one page from every range and hands each document to fn.
func (f *feedReader) read(ctx context.Context, fn func([]byte) error) (int, error) {
	if f.ranges == nil {
		ranges, err := f.c.ReadFeedRanges(ctx, nil)
		if err != nil {
			return 0, fmt.Errorf("read feed ranges: %w", err)
		}
		f.ranges, f.tokens = ranges, make([]string, len(ranges))
	}
	total := 0
	for i := range f.ranges {
		opts := &azcosmos.ChangeFeedOptions{FeedRange: &f.ranges[i], MaxItemCount: 1000}
		if f.tokens[i] != "" {
			opts.Continuation = &f.tokens[i]
		} else if f.from != nil {
			opts.StartFrom = f.from
		}
		resp, err := f.c.ReadChangeFeed(ctx, opts)
		if err != nil {
			return total, fmt.Errorf("read change feed: %w", err)
		}
		if f.ru != nil {
			f.ru.add(resp.RequestCharge)
		}
		for _, item := range resp.Items {
			if err := fn(item); err != nil {
				return total, err
			}
		}
		total += len(resp.Items)
		if resp.ContinuationToken != "" {
			f.tokens[i] = resp.ContinuationToken
		}
	}
	return total, nil
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
	unread      map[string]int // lease prefix → writes to the orders container the stage has not checkpointed
	err         error
}

func (t *tracker) progress() progress {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := progress{seen: len(t.byID), unread: map[string]int{}, err: t.feedError}
	for _, o := range t.byID {
		if o.final {
			p.final++
			continue
		}
		p.waiting[stageAfter(o.events[len(o.events)-1].typ)]++
	}
	for prefix, lsn := range t.leaseLSN {
		p.unread[prefix] = int(max(t.head, lsn) - lsn)
	}
	return p
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
