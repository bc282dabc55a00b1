package cosmosstore

import "context"

// ReserveGroup reserves one line of sku for each order (quantities qty) as
// one group, as the queue does with lines that waited behind a batch.
func (a Stock) ReserveGroup(ctx context.Context, sku string, orderIDs []string, qty []int) []error {
	rs := make([]reservation, len(orderIDs))
	for i, id := range orderIDs {
		rs[i] = reservation{orderID: id, sku: sku, qty: qty[i]}
	}
	return a.s.reserveAll(ctx, rs)
}

// Queued is how many lines of sku wait behind its batch in flight.
func (a Stock) Queued(sku string) int { return a.s.reservations.queued(sku) }
