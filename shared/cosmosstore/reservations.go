package cosmosstore

import (
	"context"
	"sync"
)

// maxReservationsPerBatch bounds a combined reservation batch: each line is
// one create, and the stock patch one more, of the 100 operations a
// transactional batch may hold.
const maxReservationsPerBatch = 64

// reservation is one order line to hold, in its SKU's partition.
type reservation struct {
	orderID, sku string
	qty          int
}

func (r reservation) doc() reservationDoc {
	return reservationDoc{ID: reservationID(r.orderID), SKU: r.sku, Kind: kindReservation, OrderID: r.orderID, Quantity: r.qty}
}

// reserveQueue lets at most one reservation batch per SKU be in flight from
// this process. Lines of that SKU that arrive meanwhile wait, and the first
// of them takes them all (up to maxReservationsPerBatch) into the next
// batch when the one in flight returns. This is group commit without a
// linger: a line that finds its SKU idle goes at once, alone; under load, as
// many lines as arrived during one round trip share the next. Fulfilment
// then costs about one stock call per SKU and round trip instead of one per
// line, and the orders of a hot SKU wait in line instead of racing for its
// stock document.
type reserveQueue struct {
	mu   sync.Mutex
	skus map[string]*skuLine // only SKUs with a batch in flight
}

// skuLine is the lines of one SKU waiting behind the batch in flight.
type skuLine struct {
	waiting []*waiter
}

// waiter is one line in a skuLine. Its leader sends it the result on done;
// lead tells it to take the next batch itself instead.
type waiter struct {
	r    reservation
	ctx  context.Context
	done chan error
	lead chan struct{}
}

// reserveFunc reserves lines of one SKU and returns one error per line.
type reserveFunc func(ctx context.Context, rs []reservation) []error

// reserve holds r: at once if no batch of its SKU is in flight, otherwise in
// the next one. It returns when r's batch has returned.
func (q *reserveQueue) reserve(ctx context.Context, r reservation, run reserveFunc) error {
	w := &waiter{r: r, ctx: ctx, done: make(chan error, 1), lead: make(chan struct{}, 1)}
	q.mu.Lock()
	if q.skus == nil {
		q.skus = map[string]*skuLine{}
	}
	line, busy := q.skus[r.sku]
	if !busy {
		line = &skuLine{}
		q.skus[r.sku] = line
	} else {
		line.waiting = append(line.waiting, w)
	}
	q.mu.Unlock()
	if busy {
		select {
		case err := <-w.done:
			return err
		case <-w.lead:
		}
	}
	return q.lead(w, line, run)
}

// lead runs the batch that w leads: w and, when w was waiting, the lines
// queued with it. It hands the SKU on to the next waiting line, if any.
func (q *reserveQueue) lead(w *waiter, line *skuLine, run reserveFunc) error {
	group := []*waiter{w}
	q.mu.Lock()
	if len(line.waiting) > 0 && line.waiting[0] == w {
		n := min(len(line.waiting), maxReservationsPerBatch)
		group = line.waiting[:n:n]
		line.waiting = line.waiting[n:]
	}
	q.mu.Unlock()

	rs := make([]reservation, len(group))
	for i, g := range group {
		rs[i] = g.r
	}
	ctx := w.ctx
	if len(group) > 1 {
		// The batch serves every line in it, so it must not end when the
		// leader's caller gives up; the store's deadline still bounds it.
		ctx = context.WithoutCancel(ctx)
	}
	errs := run(ctx, rs)
	for i, g := range group[1:] {
		g.done <- errs[i+1]
	}

	q.mu.Lock()
	if len(line.waiting) > 0 {
		line.waiting[0].lead <- struct{}{}
	} else {
		delete(q.skus, w.r.sku)
	}
	q.mu.Unlock()
	return errs[0]
}
