package cosmosstore_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
	"github.com/ordersflow/orderpipeline/infra"
	"github.com/ordersflow/orderpipeline/shared/config"
	"github.com/ordersflow/orderpipeline/shared/cosmosstore"
	"github.com/ordersflow/orderpipeline/shared/order"
)

// TestExhaustedRetriesAreTransient: whatever status a Cosmos DB call
// ends on once the client's retries are spent — throttled, timed out,
// RetryWith, a server error — the store reports it as transient, so the
// stage fails its invocation and the host retries instead of dead-lettering
// (order.ErrUnavailable is transient in handlers' error table).
func TestExhaustedRetriesAreTransient(t *testing.T) {
	srv, err := cosmos.Start(cosmos.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	noRetries := &azcosmos.ClientOptions{ClientOptions: azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}}}
	client, err := azcosmos.NewClientFromConnectionString(srv.ConnectionString(), noRetries)
	require.NoError(t, err)
	schema, err := infra.LoadSchema()
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, cosmosstore.EnsureSchema(ctx, client, schema))
	s, err := cosmosstore.New(client, schema.Database, config.LoadContainers(func(string) string { return "" }), cosmosstore.Options{})
	require.NoError(t, err)

	for _, status := range []int{http.StatusTooManyRequests, http.StatusRequestTimeout, 449, http.StatusInternalServerError, http.StatusServiceUnavailable} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			srv.ClearFaults()
			_, err := srv.InjectFault(cosmos.Fault{Op: cosmos.OpRead, Container: "orders", Status: status, Rate: 1})
			require.NoError(t, err)
			_, err = s.Order(ctx, "o-1")
			require.Error(t, err)
			assert.True(t, errors.Is(err, order.ErrUnavailable), "%v", err)
		})
	}
	srv.ClearFaults()
	_, err = s.Order(ctx, "o-1")
	assert.ErrorIs(t, err, order.ErrNotFound, "without the fault the order is simply missing")
}
