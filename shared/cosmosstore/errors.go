package cosmosstore

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// translate maps an azcosmos error onto the domain's vocabulary, keeping the
// SDK's text out of it.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return fromStatus(re.StatusCode)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("cosmos call timed out: %w", order.ErrUnavailable)
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("cosmos call failed (%v): %w", err, order.ErrUnavailable)
}

// statusRetryWith is Cosmos DB's 449 RetryWith: nothing was applied; retry.
const statusRetryWith = 449

// fromStatus maps a Cosmos status code (of a call or of a batch operation).
func fromStatus(code int) error {
	switch {
	case code == http.StatusNotFound:
		return fmt.Errorf("cosmos status %d: %w", code, order.ErrNotFound)
	case code == http.StatusConflict, code == http.StatusPreconditionFailed:
		return fmt.Errorf("cosmos status %d: %w", code, order.ErrConflict)
	case code == http.StatusTooManyRequests, code == http.StatusRequestTimeout, code == statusRetryWith, code >= http.StatusInternalServerError:
		return fmt.Errorf("cosmos status %d: %w", code, order.ErrUnavailable)
	default:
		return fmt.Errorf("cosmos status %d: %w", code, order.ErrPermanent)
	}
}

// batchError explains a batch that did not commit: the cause is the first
// operation whose status is not 424 Failed Dependency.
func batchError(resp azcosmos.TransactionalBatchResponse) error {
	for i, r := range resp.OperationResults {
		if r.StatusCode != http.StatusFailedDependency {
			return fmt.Errorf("batch operation %d: %w", i, fromStatus(int(r.StatusCode)))
		}
	}
	return fmt.Errorf("batch failed without a cause: %w", order.ErrUnavailable)
}
