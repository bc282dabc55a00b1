package funchost

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestChangeFeedInvocationIsTheRealHostsPayload(t *testing.T) {
	tc := startCosmos(t)
	fr := newFeedRelay(t, ok)
	retry := `{"strategy":"exponentialBackoff","maxRetryCount":5,"minimumInterval":"00:00:00.010","maximumInterval":"00:00:00.100"}`
	root := stageApp(t, forwardingHostJSON, map[string]string{"ApplyTax": triggerFn(``, retry)}, nil)
	_, logs := startHost(t, root, fr.relay, tc.settings(), fastPoll)

	tc.insert(t, "o-1", "o-2")
	calls := fr.until(t, "o-1", "o-2")

	c := calls[0]
	assert.Equal(t, "/ApplyTax", c.Path)
	assert.NotEmpty(t, c.InvocationID)
	assert.True(t, strings.HasPrefix(c.ContentType, "application/json"), c.ContentType)
	assert.Equal(t, "ApplyTax", c.Sys.MethodName)
	assert.NotEmpty(t, c.Sys.RandGuid)
	assert.False(t, c.Sys.UtcNow.IsZero())
	assert.JSONEq(t, `{"RetryCount":0,"MaxRetryCount":5,"Exception":null}`, string(c.RetryRaw))

	require.Eventually(t, func() bool { return tc.lease(t, "tax-0").ContinuationToken != "" }, 10*time.Second, 20*time.Millisecond)
	l := tc.lease(t, "tax-0")
	assert.Equal(t, "0", l.LeaseToken)
	assert.Equal(t, "commerce/orders", l.Monitored)
	assert.Contains(t, l.Owner, "/ApplyTax")
	assert.True(t, l.ExpiresAt.After(l.Timestamp))
	assert.Contains(t, logs.String(), "Executed 'Functions.ApplyTax' (Succeeded, Documents=")
	assert.Contains(t, logs.String(), "ApplyTax: processed o-1")
	assert.Contains(t, logs.String(), "ApplyTax: cosmosDBTrigger (commerce/orders, leases commerce/leases prefix \"tax-\")")
}
