package order

import (
	"errors"
	"fmt"
)

// The error vocabulary of the app. Adapters translate their SDK's failures
// into these at the boundary; the handlers map each to an HTTP status and a
// retry class in one table (handlers/errors.go), which a test walks.
var (
	// ErrNotFound: the order, product or record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a write lost a race (id exists, or the ETag moved on).
	// A retry rereads and may succeed.
	ErrConflict = errors.New("conflict")
	// ErrUnavailable: a dependency failed in a way a retry may cure
	// (timeouts, throttling, 5xx, a payment gateway that didn't answer).
	ErrUnavailable = errors.New("dependency unavailable")
	// ErrInvalidTransition: the event does not follow from the order's state.
	ErrInvalidTransition = errors.New("invalid transition")
	// ErrIdempotencyMismatch: an Idempotency-Key was reused with another body.
	ErrIdempotencyMismatch = errors.New("idempotency key reused with a different request")
	// ErrInsufficientStock: a SKU has less available stock than a line asks for.
	ErrInsufficientStock = errors.New("insufficient stock")
	// ErrPermanent: a failure a retry cannot cure (a document that can't be
	// decoded, a request the dependency rejects, a broken invariant).
	ErrPermanent = errors.New("permanent failure")
)

// ValidationError says which field of a request is wrong and why.
// Unprocessable marks input that is well-formed but refers to something
// that doesn't exist or doesn't fit (an unknown SKU, a currency mismatch).
type ValidationError struct {
	Field         string
	Detail        string
	Unprocessable bool
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("%s: %s", e.Field, e.Detail)
}

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Detail: fmt.Sprintf(format, args...)}
}

func unprocessable(field, format string, args ...any) error {
	return &ValidationError{Field: field, Detail: fmt.Sprintf(format, args...), Unprocessable: true}
}
