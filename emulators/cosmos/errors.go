package cosmos

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// apiError is a failure answered to the client in Cosmos DB's error shape.
type apiError struct {
	status     int
	message    string
	substatus  string        // x-ms-substatus; "" = "0"
	additional string        // additionalErrorInfo in the body, when set
	cause      error         // what the message describes, for errors.As
	ru         float64       // request charge of the refused request
	retryAfter time.Duration // x-ms-retry-after-ms, when set
}

// charged returns a copy of e that reports a request charge.
func (e *apiError) charged(ru float64) *apiError {
	c := *e
	c.ru = ru
	return &c
}

// chargeFailure charges a refused point operation (404, 412, ...).
func chargeFailure(err error) error {
	if e, ok := err.(*apiError); ok && e.status < 500 {
		return e.charged(failedOpRU)
	}
	return err
}

func (e *apiError) Unwrap() error { return e.cause }

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.status, errorCode(e.status), e.message)
}

// statusRetryWith is Cosmos DB's 449: a concurrent update conflicted; retry.
const statusRetryWith = 449

func newError(status int, format string, args ...any) *apiError {
	return &apiError{status: status, message: fmt.Sprintf(format, args...)}
}

func errBadRequest(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, format, args...)
}

func errNotFound() *apiError {
	return newError(http.StatusNotFound, "Entity with the specified id does not exist in the system.")
}

func errConflict() *apiError {
	return newError(http.StatusConflict, "Entity with the specified id already exists in the system.")
}

func errPrecondition() *apiError {
	return newError(http.StatusPreconditionFailed, "Operation cannot be performed because one of the specified precondition is not met.")
}

// errorCodes are the "code" strings Cosmos DB puts in error bodies.
var errorCodes = map[int]string{
	http.StatusBadRequest:            "BadRequest",
	http.StatusUnauthorized:          "Unauthorized",
	http.StatusForbidden:             "Forbidden",
	http.StatusNotFound:              "NotFound",
	http.StatusMethodNotAllowed:      "MethodNotAllowed",
	http.StatusConflict:              "Conflict",
	http.StatusPreconditionFailed:    "PreconditionFailed",
	http.StatusRequestEntityTooLarge: "RequestEntityTooLarge",
	http.StatusFailedDependency:      "FailedDependency",
	http.StatusGone:                  "Gone",
	http.StatusRequestTimeout:        "RequestTimeout",
	http.StatusTooManyRequests:       "TooManyRequests",
	statusRetryWith:                  "RetryWith",
	http.StatusInternalServerError:   "InternalServerError",
	http.StatusServiceUnavailable:    "ServiceUnavailable",
}

func errorCode(status int) string {
	if code, ok := errorCodes[status]; ok {
		return code
	}
	return http.StatusText(status)
}

func writeError(w http.ResponseWriter, err error) {
	e, ok := err.(*apiError)
	if !ok {
		e = newError(http.StatusInternalServerError, "%v", err)
	}
	fields := map[string]string{"code": errorCode(e.status), "message": e.message}
	if e.additional != "" {
		fields["additionalErrorInfo"] = e.additional
	}
	body, _ := json.Marshal(fields)
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h.Set(hdrSubstatus, cmp.Or(e.substatus, "0"))
	h.Set(hdrRequestCharge, formatRU(e.ru))
	if e.retryAfter > 0 {
		h.Set(hdrRetryAfterMs, strconv.FormatInt(max(1, e.retryAfter.Milliseconds()), 10))
	}
	w.WriteHeader(e.status)
	_, _ = w.Write(body)
}
