package main

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/tracing"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/ordersflow/orderpipeline/shared/config"
)

// credential returns the managed identity named by the connection's
// settings, or the default chain (az login on a laptop).
func credential(c config.Connection) (azcore.TokenCredential, error) {
	if c.Credential == "managedidentity" {
		opts := &azidentity.ManagedIdentityCredentialOptions{}
		if c.ClientID != "" {
			opts.ID = azidentity.ClientID(c.ClientID)
		}
		return azidentity.NewManagedIdentityCredential(opts)
	}
	return azidentity.NewDefaultAzureCredential(nil)
}

// statusRetryWith is Cosmos DB's 449: the write lost a race inside the
// service and was not applied; retrying it is safe.
const statusRetryWith = 449

// cosmosClientOptions set the Cosmos DB client's retries on purpose.
// azcosmos does not retry 429 itself: azcore's generic policy does, three
// times by default, which a throttled partition (1–5% of 429s is normal
// under load) exhausts. So:
//   - MaxRetries 9: ten tries, as Microsoft's .NET and Java Cosmos SDKs
//     allow rate-limited requests by default.
//   - 429 waits x-ms-retry-after-ms, the server's own figure (azcore honours
//     it). A retry-after above MaxRetryDelay (2 s) is not waited for: the
//     call fails at once, the stage treats the 429 as transient and the
//     Functions host retries the batch with its backoff, instead of holding
//     a store call (10 s deadline) asleep.
//   - 408, 449 (RetryWith: nothing was applied), 500, 502, 503 and 504 back
//     off exponentially from 50 ms (50, 150, 350, 750 ms … capped at 2 s):
//     short enough for a checkout request, long enough for a gateway blip.
//     A write retried after a 408/5xx may find it had succeeded; the store
//     handles the 409/412 that answers.
//
// With a tracing provider the SDK's spans (which carry each call's request
// charge) join ours.
func cosmosClientOptions(tp tracing.Provider) *azcosmos.ClientOptions {
	return &azcosmos.ClientOptions{ClientOptions: azcore.ClientOptions{TracingProvider: tp, Transport: cosmosHTTPClient(), Retry: policy.RetryOptions{
		MaxRetries:    9,
		RetryDelay:    50 * time.Millisecond,
		MaxRetryDelay: 2 * time.Second,
		StatusCodes: []int{http.StatusRequestTimeout, http.StatusTooManyRequests, statusRetryWith,
			http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout},
	}}}
}

// idleConnsPerHost is how many idle connections to one Cosmos DB endpoint
// the handler keeps. Checkout and the four change feed stages (64 orders at
// once each by default) have a few hundred calls in flight under load;
// azcosmos's default client keeps 100 idle, so every dip in load closed
// the rest and the next burst dialled them again (about 5% of the
// handler's CPU under bench-load). Over HTTP/2 (Azure) one connection
// carries many calls and this changes nothing.
const idleConnsPerHost = 512

// cosmosHTTPClient is azcosmos's default HTTP client (its connect timeout,
// TLS settings, HTTP/2 health checks and 65 s per-attempt cap) with a pool
// of idle connections as large as the handler's concurrency.
func cosmosHTTPClient() *http.Client {
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          2 * idleConnsPerHost,
		MaxIdleConnsPerHost:   idleConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12, Renegotiation: tls.RenegotiateFreelyAsClient},
		HTTP2:                 &http.HTTP2Config{SendPingTimeout: 2 * time.Second, PingTimeout: time.Second},
	}
	return &http.Client{Transport: wholeBodies{t}, Timeout: 65 * time.Second}
}

// wholeBodyMax is the largest request body wholeBodies holds in memory:
// more than any item or transactional batch the handler writes.
const wholeBodyMax = 1 << 20

// wholeBodies sends a request and its body in one write. net/http writes
// a request's headers on their own and then its body unless the body is a
// *bytes.Reader, *bytes.Buffer or *strings.Reader (isKnownInMemoryReader
// in net/http's transfer.go), and azcore wraps every body in a
// ReadSeekCloser of its own. So each Cosmos DB call with a body cost the
// handler two writes and the emulator a second read and wake-up. A copy of
// a few kilobytes is cheaper than a system call; the request keeps its
// GetBody, so a retried request resends the same bytes.
type wholeBodies struct{ next http.RoundTripper }

func (t wholeBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody || req.ContentLength <= 0 || req.ContentLength > wholeBodyMax {
		return t.next.RoundTrip(req)
	}
	body := make([]byte, req.ContentLength)
	_, err := io.ReadFull(req.Body, body)
	_ = req.Body.Close() // a RoundTripper closes the body, also on error
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	whole := *req // RoundTrip must not change the caller's request
	whole.Body = io.NopCloser(bytes.NewReader(body))
	whole.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return t.next.RoundTrip(&whole)
}

// newCosmosClient builds the Cosmos DB client.
func newCosmosClient(c config.Connection, tp tracing.Provider) (*azcosmos.Client, error) {
	opts := cosmosClientOptions(tp)
	if c.String != "" {
		client, err := azcosmos.NewClientFromConnectionString(c.String, opts)
		if err != nil {
			return nil, fmt.Errorf("cosmos client: %w", err)
		}
		return client, nil
	}
	cred, err := credential(c)
	if err != nil {
		return nil, fmt.Errorf("cosmos credential: %w", err)
	}
	client, err := azcosmos.NewClient(c.Endpoint, cred, opts)
	if err != nil {
		return nil, fmt.Errorf("cosmos client: %w", err)
	}
	return client, nil
}

func newSender(c config.Connection, topic string) (*azservicebus.Client, *azservicebus.Sender, error) {
	var client *azservicebus.Client
	var err error
	if c.String != "" {
		client, err = azservicebus.NewClientFromConnectionString(c.String, nil)
	} else {
		var cred azcore.TokenCredential
		if cred, err = credential(c); err == nil {
			client, err = azservicebus.NewClient(c.Endpoint, cred, nil)
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("service bus client: %w", err)
	}
	sender, err := client.NewSender(topic, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("service bus sender for %s: %w", topic, err)
	}
	return client, sender, nil
}
