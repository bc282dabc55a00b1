package cosmos

import (
	"math"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Throttling, as Cosmos DB does it: a provisioned budget is spent per
// physical partition per second. Each budget is a token bucket holding at
// most one second of throughput and refilled continuously; a request is
// admitted while the bucket is not empty and its charge is taken when it
// answers, so the bucket can go into debt. A request that finds it empty
// gets 429, substatus 3200, and x-ms-retry-after-ms: the time until the
// bucket is positive again.

const (
	substatusRequestRateTooLarge = "3200"
	autoscaleFloor               = 0.1 // autoscale never scales below 10% of its maximum
)

// budgetKey names one budget: a container's (or a database's shared
// throughput's) partition key range.
type budgetKey struct {
	scope   string // container or database self link
	rangeID string
}

// bucket is one budget's token bucket.
type bucket struct {
	rate      float64 // RU/s of this partition
	autoscale bool
	tokens    float64
	last      time.Time
	window    [2]float64 // RU spent in the current and the previous second
	second    int64
	throttled int64
}

// throttler holds every budget. A nil *throttler throttles nothing.
type throttler struct {
	serverless float64 // RU/s per partition of containers with no offer; 0 = unlimited
	now        func() time.Time

	mu      sync.Mutex
	buckets map[budgetKey]*bucket
}

func newThrottler(o Options) *throttler {
	if o.NoThrottle {
		return nil
	}
	return &throttler{serverless: o.ServerlessRUPerSecond, now: time.Now, buckets: map[budgetKey]*bucket{}}
}

// enforcedOffer is the offer whose throughput a container's requests
// spend, and the self link of its resource: the container's own, else its
// database's shared one; nil when it has none or only the display default
// of a container created without throughput (serverless).
func enforcedOffer(c *container) (*offer, string) {
	o, scope := c.offer.Load(), c.self()
	if o == nil {
		o, scope = c.db.offer.Load(), "dbs/"+c.db.rid+"/"
	}
	if o == nil || o.Default {
		return nil, c.self()
	}
	return o, scope
}

// budget finds the budget a request on range rangeID of c spends: its
// offer's RU/s (autoscale: its maximum) divided over the container's live
// partition key ranges, else the serverless limit; a rate of 0 when
// unlimited. A request that spans every range (rangeID "") spends a
// budget of its own, one range's share.
func (t *throttler) budget(c *container, rangeID string) (budgetKey, float64, bool) {
	o, scope := enforcedOffer(c)
	if o == nil && t.serverless == 0 {
		return budgetKey{}, 0, false // serverless: no budget, nothing built
	}
	key := budgetKey{scope: scope, rangeID: rangeID}
	if o == nil {
		return key, t.serverless, false
	}
	ceiling := float64(max(o.Throughput.Manual, o.Throughput.AutoMax))
	return key, ceiling / float64(len(c.routing().Live)), o.Throughput.AutoMax > 0
}

// limits reports whether a request may be throttled at all, before its
// partition key is hashed: a serverless container (the local stack's)
// costs one container lookup and no budget.
func (t *throttler) limits(st *store, rt route) bool {
	switch {
	case t == nil:
		return false
	case t.serverless > 0:
		return true
	case rt.kind != "docs" && rt.kind != "doc":
		return false
	}
	c, err := st.container(rt.db, rt.coll)
	if err != nil {
		return false // the handler answers it
	}
	o, _ := enforcedOffer(c)
	return o != nil
}

// admit lets a request on range rangeID of c through, or refuses it with
// 429 when its budget is spent. The returned bucket is charged with spend.
func (t *throttler) admit(c *container, rangeID string) (*bucket, error) {
	if t == nil {
		return nil, nil
	}
	key, rate, autoscale := t.budget(c, rangeID)
	if rate == 0 {
		return nil, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	b := t.buckets[key]
	if b == nil || b.rate != rate {
		b = &bucket{rate: rate, autoscale: autoscale, tokens: rate, last: now}
		t.buckets[key] = b
	}
	b.refill(now)
	if b.tokens > 0 {
		return b, nil
	}
	b.throttled++
	wait := time.Duration(math.Ceil(-b.tokens/rate*1000)+1) * time.Millisecond
	e := newError(http.StatusTooManyRequests, "Request rate is large. More Request Units may be needed, so no changes were made. Please retry this request later.")
	e.substatus, e.retryAfter = substatusRequestRateTooLarge, wait
	return nil, e
}

func (b *bucket) refill(now time.Time) {
	b.tokens = min(b.rate, b.tokens+b.rate*now.Sub(b.last).Seconds())
	b.last = now
	if sec := now.Unix(); sec != b.second {
		if sec == b.second+1 {
			b.window[1] = b.window[0]
		} else {
			b.window[1] = 0
		}
		b.window[0], b.second = 0, sec
	}
}

// spend takes a request's charge from the bucket admit returned.
func (t *throttler) spend(b *bucket, ru float64) {
	if b == nil || ru <= 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	b.tokens -= ru
	b.window[0] += ru
}

// BudgetStats describe one throughput budget.
type BudgetStats struct {
	Scope     string  `json:"scope"` // the container's or database's self link
	RangeID   string  `json:"rangeId"`
	RUPerSec  float64 `json:"ruPerSecond"`         // the partition's share of the offer (autoscale: of its maximum)
	ScaledTo  float64 `json:"scaledTo,omitempty"`  // autoscale: RU/s it runs at now, 10%..100% of the maximum
	Throttled int64   `json:"throttled"`           // requests answered 429
	Available float64 `json:"available,omitempty"` // RU left in the bucket now
}

// stats lists every budget that has seen a request.
func (t *throttler) stats() []BudgetStats {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	out := make([]BudgetStats, 0, len(t.buckets))
	for k, b := range t.buckets {
		b.refill(now)
		s := BudgetStats{Scope: k.scope, RangeID: k.rangeID, RUPerSec: b.rate, Throttled: b.throttled, Available: max(0, b.tokens)}
		if b.autoscale {
			s.ScaledTo = min(b.rate, max(autoscaleFloor*b.rate, b.window[0], b.window[1]))
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Scope+out[i].RangeID < out[j].Scope+out[j].RangeID })
	return out
}

// Budgets reports the throughput budgets requests have spent from, and how
// many requests each throttled.
func (s *Server) Budgets() []BudgetStats { return s.throttle.stats() }

// answeredCharge reads the charge a handler answered with, or the charge of the
// error it returned.
func answeredCharge(h http.Header, err error) float64 {
	if e, ok := err.(*apiError); ok {
		return e.ru
	}
	v := h[http.CanonicalHeaderKey(hdrRequestCharge)]
	if len(v) == 0 {
		return 0
	}
	ru, _ := strconv.ParseFloat(v[0], 64)
	return ru
}

// metered runs a handler after the faults and the throughput budget let
// the request through, and charges the budget what the request cost.
func (s *Server) metered(w http.ResponseWriter, r *http.Request, rt route, h handlerFunc) error {
	err := s.admitted(w, r, rt, h)
	s.charges.add(rt.coll, operation(r, rt), answeredCharge(w.Header(), err))
	return err
}

func (s *Server) admitted(w http.ResponseWriter, r *http.Request, rt route, h handlerFunc) error {
	if s.faults.count.Load() > 0 {
		if err := s.faults.inject(r.Context(), operation(r, rt), rt.coll); err != nil {
			return err
		}
	}
	if !s.throttle.limits(s.store, rt) {
		return h(s, w, r, rt)
	}
	c, rangeID, err := s.partitionOf(r, rt)
	if c == nil || err != nil {
		return h(s, w, r, rt) // not an item request, or the handler answers the error
	}
	b, err := s.throttle.admit(c, rangeID)
	if err != nil {
		return err
	}
	err = h(s, w, r, rt)
	if b != nil {
		s.throttle.spend(b, answeredCharge(w.Header(), err))
	}
	return err
}
