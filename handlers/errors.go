package handlers

import (
	"context"
	"errors"
	"net/http"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// retryClass says whether a retry may cure a failure: a trigger fails a
// transient error so the host retries the batch, and dead-letters a
// permanent one at once.
type retryClass int

const (
	permanent retryClass = iota
	transient
)

// verdict is what an error means at the edge: the HTTP answer and the
// retry class.
type verdict struct {
	status int
	kind   string
	retry  retryClass
}

// errorTable is the one map from the error vocabulary to HTTP status and
// retry class; the first match wins, so a more specific error comes first.
// payment.ErrUnavailable wraps order.ErrUnavailable and
// inventory.ErrInsufficientStock is order.ErrInsufficientStock.
var errorTable = []struct {
	err error
	verdict
}{
	{order.ErrNotFound, verdict{http.StatusNotFound, "not-found", permanent}},
	{order.ErrIdempotencyMismatch, verdict{http.StatusUnprocessableEntity, "idempotency-key-reused", permanent}},
	{order.ErrInsufficientStock, verdict{http.StatusConflict, "insufficient-stock", permanent}},
	{order.ErrInvalidTransition, verdict{http.StatusConflict, "invalid-transition", permanent}},
	{order.ErrConflict, verdict{http.StatusConflict, "conflict", transient}},
	{order.ErrUnavailable, verdict{http.StatusServiceUnavailable, "unavailable", transient}},
	{context.DeadlineExceeded, verdict{http.StatusServiceUnavailable, "unavailable", transient}},
	{context.Canceled, verdict{http.StatusServiceUnavailable, "unavailable", transient}},
	{order.ErrPermanent, verdict{http.StatusInternalServerError, "internal", permanent}},
}

// unknownError is the verdict on an error outside the vocabulary: a 500
// that is not retried. A trigger dead-letters the document at once, where
// it can be replayed, rather than retrying a failure nobody classified.
var unknownError = verdict{http.StatusInternalServerError, "internal", permanent}

// classify finds err's verdict; known is false for an error outside the
// vocabulary.
func classify(err error) (v verdict, known bool) {
	var re *requestError
	var ve *order.ValidationError
	switch {
	case errors.As(err, &re):
		return verdict{re.status, re.kind, permanent}, true
	case errors.As(err, &ve) && ve.Unprocessable:
		return verdict{http.StatusUnprocessableEntity, "unprocessable", permanent}, true
	case errors.As(err, &ve):
		return verdict{http.StatusBadRequest, "invalid-request", permanent}, true
	}
	for _, row := range errorTable {
		if errors.Is(err, row.err) {
			return row.verdict, true
		}
	}
	return unknownError, false
}

// isTransient reports whether a retry may cure err.
func isTransient(err error) bool {
	if err == nil {
		return false
	}
	v, _ := classify(err)
	return v.retry == transient
}

// toProblem decides the answer to err. Only 4xx answers carry the error's
// text; a 5xx says what failed without the SDK's words.
func toProblem(err error) Problem {
	v, _ := classify(err)
	p := newProblem(v.status, v.kind, "", "")
	if v.status >= http.StatusInternalServerError {
		return p
	}
	var re *requestError
	var ve *order.ValidationError
	switch {
	case errors.As(err, &re):
		p.Detail, p.Field = re.detail, re.field
	case errors.As(err, &ve):
		p.Detail, p.Field = ve.Error(), ve.Field
	default:
		p.Detail = err.Error()
	}
	return p
}
