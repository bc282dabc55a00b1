package cosmos_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
)

// TestRegionEndpointIsWhereTheSDKWrites puts a proxy in front of the
// emulator and advertises it as the account's region endpoint: azcosmos
// sends its writes to the region the account names.
func TestRegionEndpointIsWhereTheSDKWrites(t *testing.T) {
	var proxied atomic.Int64
	var backend atomic.Pointer[url.URL]
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		proxied.Add(1)
		r.SetURL(backend.Load())
		r.Out.Host = r.In.Host
	}})
	t.Cleanup(proxy.Close)
	srv, err := cosmos.Start(cosmos.Options{Region: "West Europe", RegionEndpoint: proxy.URL + "/", Consistency: "Strong"})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, srv.Close()) })
	u, err := url.Parse(srv.Endpoint())
	require.NoError(t, err)
	backend.Store(u)

	client := newClient(t, target{endpoint: srv.Endpoint(), key: srv.Key(), http: http.DefaultClient}, srv.Key())
	_, err = client.CreateDatabase(testCtx(t), azcosmos.DatabaseProperties{ID: "via-region"}, nil)
	require.NoError(t, err)
	assert.Positive(t, proxied.Load(), "the write went to the advertised region endpoint")
}
