package cosmos_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
)

// The contract suite drives an endpoint only through the azcosmos SDK.
// Without COSMOS_CONTRACT_ENDPOINT it runs against in-process emulators
// over HTTP, over HTTPS and with a data directory; with it, against that endpoint:
//
//	COSMOS_CONTRACT_ENDPOINT=https://host:8081/ COSMOS_CONTRACT_KEY=... \
//	COSMOS_CONTRACT_INSECURE=1 go test ./emulators/cosmos -run Contract
//
// COSMOS_CONTRACT_INSECURE=1 skips certificate verification (for another
// emulator's self-signed certificate).

// target is one endpoint the suite runs against.
type target struct {
	name     string
	endpoint string
	key      string
	http     *http.Client
}

// env is what one contract test gets: a client and a fresh database.
type env struct {
	target
	client *azcosmos.Client
	db     *azcosmos.DatabaseClient
}

func targets(t *testing.T) []target {
	if ep := os.Getenv("COSMOS_CONTRACT_ENDPOINT"); ep != "" {
		tlsCfg := &tls.Config{InsecureSkipVerify: os.Getenv("COSMOS_CONTRACT_INSECURE") == "1"} //nolint:gosec // opt-in for self-signed emulators
		return []target{{name: "external", endpoint: ep, key: os.Getenv("COSMOS_CONTRACT_KEY"), http: httpClient(tlsCfg)}}
	}
	return []target{
		startTarget(t, "http", cosmos.Options{}),
		startTarget(t, "https", cosmos.Options{TLS: true}),
		startTarget(t, "durable", cosmos.Options{DataDir: t.TempDir()}),
	}
}

func startTarget(t *testing.T, name string, opts cosmos.Options) target {
	t.Helper()
	srv, err := cosmos.Start(opts)
	require.NoError(t, err)
	hc := httpClient(srv.TLSConfig())
	t.Cleanup(func() { require.NoError(t, srv.Close()) })
	return target{name: name, endpoint: srv.Endpoint(), key: srv.Key(), http: hc}
}

func httpClient(tlsCfg *tls.Config) *http.Client {
	tr := &http.Transport{TLSClientConfig: tlsCfg, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 64}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

// forEachTarget runs fn against every target, each with a new database.
func forEachTarget(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, tg := range targets(t) {
		t.Run(tg.name, func(t *testing.T) {
			fn(t, newEnv(t, tg))
		})
	}
}

func newEnv(t *testing.T, tg target) *env {
	t.Helper()
	client := newClient(t, tg, tg.key)
	id := "contract-" + randomID()
	ctx := testCtx(t)
	_, err := client.CreateDatabase(ctx, azcosmos.DatabaseProperties{ID: id}, nil)
	require.NoError(t, err)
	db, err := client.NewDatabase(id)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := db.Delete(context.Background(), nil)
		require.NoError(t, err)
	})
	return &env{target: tg, client: client, db: db}
}

func newClient(t *testing.T, tg target, key string) *azcosmos.Client {
	t.Helper()
	cred, err := azcosmos.NewKeyCredential(key)
	require.NoError(t, err)
	opts := &azcosmos.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: tg.http}}
	client, err := azcosmos.NewClientWithKey(tg.endpoint, cred, opts)
	require.NoError(t, err)
	return client
}

// container creates a container with the given partition key path.
func (e *env) container(t *testing.T, pkPath string) *azcosmos.ContainerClient {
	t.Helper()
	id := "c-" + randomID()
	props := azcosmos.ContainerProperties{ID: id, PartitionKeyDefinition: azcosmos.PartitionKeyDefinition{Paths: []string{pkPath}}}
	_, err := e.db.CreateContainer(testCtx(t), props, nil)
	require.NoError(t, err)
	c, err := e.db.NewContainer(id)
	require.NoError(t, err)
	return c
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func randomID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
