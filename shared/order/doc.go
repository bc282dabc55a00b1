// Package order is the domain of the pipeline: an order, the events that
// change it and the rules that say which change may follow which.
//
// An order is event-sourced. Every change is an immutable Event with a
// deterministic id (<orderId>:<type>) and a sequence number; the order
// document is the fold of its events. Each stage of the saga is a pure
// function from the current order to the next event, so the adapters can
// write the event and the new order state in one transaction and a
// redelivered trigger finds its event already there.
//
// Money is int64 minor units of the order's ISO 4217 currency.
//
// The package imports no SDK, no logger and no net/http.
package order
