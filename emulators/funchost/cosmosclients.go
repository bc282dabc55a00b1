package funchost

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"github.com/ordersflow/orderpipeline/internal/feedpage"
)

// cosmosClients keeps one azcosmos client per connection setting.
type cosmosClients map[string]*azcosmos.Client

// connect builds the clients every cosmosDBTrigger needs; a missing or
// malformed connection setting is a start-up error naming the binding.
// A connection to an account in transports uses its transport.
func connectCosmos(fns []*function, settings *appSettings, transports map[string]policy.Transporter) (cosmosClients, error) {
	clients := cosmosClients{}
	var errs []error
	for _, f := range fns {
		if f.Cosmos == nil {
			continue
		}
		for _, conn := range []string{f.Cosmos.Connection, f.Cosmos.LeaseConnection} {
			if _, ok := clients[conn]; ok {
				continue
			}
			c, err := newCosmosClient(conn, settings, transports)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: binding %q (cosmosDBTrigger): %w", f.File, f.Cosmos.Name, err))
				continue
			}
			clients[conn] = c
		}
	}
	return clients, errors.Join(errs...)
}

func newCosmosClient(conn string, settings *appSettings, transports map[string]policy.Transporter) (*azcosmos.Client, error) {
	cs, ok := settings.lookup(conn)
	if !ok || cs == "" {
		if ep, _ := settings.lookup(conn + "__accountEndpoint"); ep != "" {
			return nil, fmt.Errorf("connection %q: identity-based connections (%s__accountEndpoint) are not supported by the local host; set %s to a connection string", conn, conn, conn)
		}
		return nil, fmt.Errorf("connection %q: app setting %s is not set (want AccountEndpoint=...;AccountKey=...;)", conn, conn)
	}
	if !strings.Contains(cs, "AccountEndpoint=") {
		return nil, fmt.Errorf("connection %q: app setting %s is not a Cosmos DB connection string (AccountEndpoint=...;AccountKey=...;)", conn, conn)
	}
	c, err := azcosmos.NewClientFromConnectionString(cs, triggerClientOptions)
	if err != nil {
		return nil, fmt.Errorf("connection %q: %w", conn, err)
	}
	if t := transports[c.Endpoint()]; t != nil { // the endpoint as azcosmos read it
		opts := *triggerClientOptions
		opts.Transport = t
		return azcosmos.NewClientFromConnectionString(cs, &opts)
	}
	return c, nil
}

// triggerClientOptions retry throttled requests as the real host's
// cosmosDBTrigger does: the .NET SDK under it retries 429 nine times
// (MaxRetryAttemptsOnRateLimitedRequests), honouring the retry-after.
// The listeners' change feed pages are split by feedpage rather than
// decoded by the SDK: the host only forwards the documents.
var triggerClientOptions = &azcosmos.ClientOptions{ClientOptions: azcore.ClientOptions{
	Retry:           policy.RetryOptions{MaxRetries: 9, RetryDelay: 50 * time.Millisecond, MaxRetryDelay: 30 * time.Second},
	PerCallPolicies: []policy.Policy{feedpage.Policy}}}

// statusCode is the HTTP status of a Cosmos DB error, or 0.
func statusCode(err error) int {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	return 0
}

func isNotFound(err error) bool { return statusCode(err) == http.StatusNotFound }

// briefError shortens the SDK's multi-line response errors to one line
// for the console; errors.As still finds the *azcore.ResponseError.
type briefError struct{ err *azcore.ResponseError }

func (e briefError) Error() string {
	msg := fmt.Sprintf("Cosmos DB answered %d", e.err.StatusCode)
	if e.err.ErrorCode != "" {
		msg += " " + e.err.ErrorCode
	}
	if e.err.RawResponse != nil && e.err.RawResponse.Request != nil {
		r := e.err.RawResponse.Request
		msg = r.Method + " " + r.URL.Path + ": " + msg
	}
	return msg
}

func (e briefError) Unwrap() error { return e.err }

// brief makes SDK response errors one line; other errors pass through.
func brief(err error) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return briefError{re}
	}
	return err
}
