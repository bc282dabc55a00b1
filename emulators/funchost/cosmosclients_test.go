package funchost

import (
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
)

// countingTransport counts the requests it passes to next.
type countingTransport struct {
	next policy.Transporter
	n    atomic.Int64
}

func (c *countingTransport) Do(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.Do(req)
}

// TestCosmosClientUsesTheTransportOfItsAccount: a connection to the
// account given a transport sends its requests there, any other over
// TCP.
func TestCosmosClientUsesTheTransportOfItsAccount(t *testing.T) {
	srv, err := cosmos.Start(cosmos.Options{Addr: "127.0.0.1:0"})
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	settings := &appSettings{overrides: map[string]string{"COSMOS": srv.ConnectionString()},
		getenv: func(string) (string, bool) { return "", false }}
	for _, tc := range []struct {
		name    string
		account string
		want    bool
	}{
		{"its account", srv.Endpoint(), true},
		{"another account", "https://other.documents.azure.com:443/", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inProcess := &countingTransport{next: srv.Transport()}
			c, err := newCosmosClient("COSMOS", settings, map[string]policy.Transporter{tc.account: inProcess})
			require.NoError(t, err)
			db, err := c.NewDatabase("missing")
			require.NoError(t, err)
			_, err = db.Read(t.Context(), nil)
			assert.True(t, isNotFound(err), "read a missing database: %v", err)
			assert.Equal(t, tc.want, inProcess.n.Load() > 0, "requests through the transport: %d", inProcess.n.Load())
		})
	}
}
