package funchost

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Two hosts on one lease container: only the lease owner processes the
// range, every document is delivered once, and when the owner stops the
// other host continues from its checkpoint.
func TestTwoHostsNeverProcessOneRangeAtOnce(t *testing.T) {
	tc := startCosmos(t)
	fr := newFeedRelay(t, ok)
	fr.holdUntilLeaseWritten(t, tc)
	root := stageApp(t, forwardingHostJSON, map[string]string{"ApplyTax": triggerFn(`,"maxItemsPerInvocation":3`, "")}, nil)
	a, _ := startHost(t, root, fr.relay, tc.settings(), fastPoll)
	b, _ := startHost(t, root, fr.relay, tc.settings(), fastPoll)

	first := ids("x", 0, 12)
	for _, id := range first {
		tc.insert(t, id)
	}
	calls := fr.until(t, first...)
	owner := calls[0].Pid
	for _, c := range calls {
		assert.Equal(t, owner, c.Pid, "only the lease owner processes the range")
		assert.LessOrEqual(t, len(c.Docs), 3, "maxItemsPerInvocation")
	}

	stopped, survivor := a, b
	if pidOf(t, b) == owner {
		stopped, survivor = b, a
	}
	require.NoError(t, stopped.Close())
	second := ids("y", 0, 6)
	for _, id := range second {
		tc.insert(t, id)
	}
	later := fr.until(t, second...)
	for _, c := range later {
		assert.Equal(t, pidOf(t, survivor), c.Pid, "the other host takes the released lease")
	}

	assert.Equal(t, append(first, second...), delivered(append(calls, later...)), "every document exactly once")
	assert.Equal(t, int32(1), fr.maxIn.Load(), "never two invocations at once")
}

// A lease held by a host that died is taken over only once it expires.
func TestTakesOverAnExpiredLeaseOnly(t *testing.T) {
	tc := startCosmos(t)
	ranges, err := tc.orders.ReadFeedRanges(testCtx(t), nil)
	require.NoError(t, err)
	require.NotEmpty(t, ranges)
	expires := time.Now().UTC().Add(1500 * time.Millisecond)
	ghost := leaseDoc{ID: "tax-0", LeaseToken: "0", Version: 1, Monitored: "commerce/orders",
		FeedRange: leaseRange{Min: ranges[0].MinInclusive, Max: ranges[0].MaxExclusive},
		Owner:     "ghost/ApplyTax", Timestamp: time.Now().UTC(), ExpiresAt: expires}
	_, err = tc.leases.CreateItem(testCtx(t), azcosmos.NewPartitionKeyString("tax-0"), mustJSON(ghost), nil)
	require.NoError(t, err)

	fr := newFeedRelay(t, ok)
	root := stageApp(t, forwardingHostJSON, map[string]string{"ApplyTax": triggerFn(``, "")}, nil)
	_, logs := startHost(t, root, fr.relay, tc.settings(), fastPoll)
	tc.insert(t, "a")

	c := fr.next(t)
	assert.Contains(t, logs.String(), "ApplyTax: lease tax-0 is held by ghost until")
	assert.Equal(t, []string{"a"}, c.Docs)
	assert.True(t, c.At.After(expires), "invoked at %s while the ghost's lease ran until %s", c.At, expires)
	assert.NotEqual(t, "ghost/ApplyTax", tc.lease(t, "tax-0").Owner)
}

// A host that loses its lease (another owner wrote it) stops processing.
func TestStopsWhenTheLeaseIsLost(t *testing.T) {
	tc := startCosmos(t)
	fr := newFeedRelay(t, ok)
	root := stageApp(t, forwardingHostJSON, map[string]string{"ApplyTax": triggerFn(``, "")}, nil)
	_, logs := startHost(t, root, fr.relay, tc.settings(), fastPoll)
	tc.insert(t, "a")
	fr.next(t)

	stealLease(t, tc, "tax-0", "thief/ApplyTax", time.Hour)
	require.Eventually(t, func() bool {
		return strings.Contains(logs.String(), "lease tax-0 (now thief): lease lost to another instance")
	}, 10*time.Second, 20*time.Millisecond)
	tc.insert(t, "b")
	select {
	case c := <-fr.calls:
		t.Fatalf("invoked with %v after losing the lease", c.Docs)
	case <-time.After(300 * time.Millisecond): // several poll intervals
	}
}

func stealLease(t *testing.T, tc *testCosmos, id, owner string, ttl time.Duration) {
	ctx := testCtx(t)
	for {
		resp, err := tc.leases.ReadItem(ctx, azcosmos.NewPartitionKeyString(id), id, nil)
		require.NoError(t, err)
		var d leaseDoc
		require.NoError(t, jsonUnmarshal(resp.Value, &d))
		d.Owner, d.ExpiresAt = owner, time.Now().UTC().Add(ttl)
		etag := resp.ETag
		_, err = tc.leases.ReplaceItem(ctx, azcosmos.NewPartitionKeyString(id), id, mustJSON(d), &azcosmos.ItemOptions{IfMatchEtag: &etag})
		if statusCode(err) == 412 {
			continue // the host renewed in between; read again
		}
		require.NoError(t, err)
		return
	}
}

func TestLeaseContainerMustExistUnlessAskedToCreateIt(t *testing.T) {
	tc := startCosmos(t)
	fr := newFeedRelay(t, ok)
	settings := tc.settings()
	settings["LEASES"] = "leases2"

	root := stageApp(t, forwardingHostJSON, map[string]string{"ApplyTax": triggerFn(``, "")}, nil)
	h, err := New(Config{ScriptRoot: root, Addr: "127.0.0.1:0", Settings: settings, Log: &syncBuffer{}})
	require.NoError(t, err)
	err = h.Start(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), `ApplyTax/function.json: binding "documents" (cosmosDBTrigger): lease container commerce/leases2 does not exist`)

	root = stageApp(t, forwardingHostJSON, map[string]string{"ApplyTax": triggerFn(`,"createLeaseContainerIfNotExists":true`, "")}, nil)
	startHost(t, root, fr.relay, settings, fastPoll)
	leases2, err := tc.db.NewContainer("leases2")
	require.NoError(t, err)
	props, err := leases2.Read(testCtx(t), nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"/id"}, props.ContainerProperties.PartitionKeyDefinition.Paths)
	tc.insert(t, "a")
	assert.Equal(t, []string{"a"}, fr.next(t).Docs)
}

func ids(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("%s-%02d", prefix, i))
	}
	return out
}

func delivered(calls []call) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.Docs...)
	}
	sort.Strings(out)
	return out
}

func pidOf(t *testing.T, h *Host) string {
	t.Helper()
	h.proc.mu.Lock()
	defer h.proc.mu.Unlock()
	return fmt.Sprint(h.proc.cmd.Process.Pid)
}

func TestMonitoredContainerMustExist(t *testing.T) {
	tc := startCosmos(t)
	fj := strings.Replace(triggerFn(``, ""), `"containerName":"orders"`, `"containerName":"nope"`, 1)
	root := stageApp(t, forwardingHostJSON, map[string]string{"ApplyTax": fj}, nil)
	settings := tc.settings()
	settings["RELAY_URL"] = "http://127.0.0.1:1"
	h, err := New(Config{ScriptRoot: root, Addr: "127.0.0.1:0", Settings: settings, Log: &syncBuffer{}})
	require.NoError(t, err)
	err = h.Start(testCtx(t))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `ApplyTax/function.json: binding "documents" (cosmosDBTrigger): monitored container commerce/nope does not exist`)
	assert.NoError(t, h.Close())
}
