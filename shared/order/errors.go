package order

import (
	"errors"
	"fmt"
)

// Errors shared by the domain and its adapters. Adapters translate their
// SDK's status codes into these at the boundary.
var (
	// ErrNotFound: the order, product or record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a write lost a race (id exists, or the ETag moved on).
	ErrConflict = errors.New("conflict")
	// ErrUnavailable: a dependency failed in a way a retry may cure
	// (timeouts, throttling, 5xx).
	ErrUnavailable = errors.New("dependency unavailable")
	// ErrInvalidTransition: the event does not follow from the order's state.
	ErrInvalidTransition = errors.New("invalid transition")
	// ErrIdempotencyMismatch: an Idempotency-Key was reused with another body.
	ErrIdempotencyMismatch = errors.New("idempotency key reused with a different request")
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

// IsTransient reports whether a retry may cure err. Anything not known to
// be permanent is treated as transient: it is retried and, after the last
// retry, recorded as a dead letter, so nothing is lost either way.
func IsTransient(err error) bool {
	var ve *ValidationError
	switch {
	case err == nil:
		return false
	case errors.Is(err, ErrInvalidTransition), errors.Is(err, ErrNotFound), errors.As(err, &ve):
		return false
	case errors.Is(err, ErrPermanent):
		return false
	}
	return true
}

// ErrPermanent marks a failure a retry cannot cure (a document that can't be
// decoded, a broken invariant).
var ErrPermanent = errors.New("permanent failure")
