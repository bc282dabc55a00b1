package funchost

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func instanceID(id string) func(*Config) { return func(c *Config) { c.InstanceID = id } }

// owners reads every lease of prefix tax- and counts them per instance.
func (tc *testCosmos) owners(t *testing.T) (map[string]int, []leaseDoc) {
	t.Helper()
	var all []leaseDoc
	pager := tc.leases.NewQueryItemsPager("SELECT * FROM c WHERE STARTSWITH(c.id, 'tax-')", azcosmos.NewPartitionKey(), nil)
	for pager.More() {
		page, err := pager.NextPage(testCtx(t))
		require.NoError(t, err)
		for _, raw := range page.Items {
			var d leaseDoc
			require.NoError(t, json.Unmarshal(raw, &d))
			all = append(all, d)
		}
	}
	counts := map[string]int{}
	for _, d := range all {
		if !d.free(time.Now()) {
			counts[instance(d.Owner)]++
		}
	}
	return counts, all
}

// Three instances on four partitions: the first takes every lease, the
// others ask for their share and get it handed over at a batch boundary,
// so documents written all along are each delivered exactly once.
func TestLeasesSpreadOverInstancesWithoutDuplicates(t *testing.T) {
	tc := startCosmosWith(t, 4)
	fr := newFeedRelay(t, ok)
	root := stageApp(t, forwardingHostJSON, map[string]string{"ApplyTax": triggerFn(`,"maxItemsPerInvocation":5`, "")}, nil)
	_, logsA := startHost(t, root, fr.relay, tc.settings(), fastPoll, instanceID("a"))
	require.Eventually(t, func() bool { c, _ := tc.owners(t); return c["a"] == 4 }, 10*time.Second, 20*time.Millisecond)

	var all []string
	stop := make(chan struct{})
	writer := make(chan error, 1)
	go func() { // orders keep arriving while the leases move
		for i := 0; ; i++ {
			select {
			case <-stop:
				writer <- nil
				return
			default:
			}
			id := ids("w", i, i+1)[0]
			doc := fmt.Sprintf(`{"id":%q,"orderId":%q}`, id, id)
			if _, err := tc.orders.CreateItem(context.Background(), azcosmos.NewPartitionKeyString(id), []byte(doc), nil); err != nil {
				writer <- err
				return
			}
			all = append(all, id)
		}
	}()
	_, logsB := startHost(t, root, fr.relay, tc.settings(), fastPoll, instanceID("b"))
	_, logsC := startHost(t, root, fr.relay, tc.settings(), fastPoll, instanceID("c"))
	require.Eventually(t, func() bool {
		c, _ := tc.owners(t)
		return c["a"] == 2 && c["b"] == 1 && c["c"] == 1 || c["a"] == 1 && c["b"]+c["c"] == 3 && c["b"] > 0 && c["c"] > 0
	}, 20*time.Second, 20*time.Millisecond, "four leases spread 2/1/1 over three instances")
	close(stop)
	require.NoError(t, <-writer)

	calls := fr.until(t, all...)
	sort.Strings(all)
	assert.Equal(t, all, delivered(calls), "every document exactly once while leases moved")
	logs := logsA.String() + logsB.String() + logsC.String()
	assert.Contains(t, logs, "ApplyTax: a handed lease tax-")
	assert.Contains(t, logs, "(handed over to it)")
	assert.Regexp(t, `ApplyTax: [bc] asked a for lease tax-\d \(4 leases, \d instances, target 2 each`, logs)
	assert.Regexp(t, `ApplyTax: [bc] holds 1 of 4 leases \[tax-\d\] \(\d instances, target 2 each\)`, logs)
	_, leases := tc.owners(t)
	assert.Len(t, leases, 4, "one lease per partition")
}

// An instance killed without releasing its leases: the others take them
// once they expire and continue from its checkpoints.
func TestExpiredLeasesOfADeadInstanceMove(t *testing.T) {
	tc := startCosmosWith(t, 4)
	fr := newFeedRelay(t, ok)
	root := stageApp(t, forwardingHostJSON, map[string]string{"ApplyTax": triggerFn(``, "")}, nil)
	now := time.Now().UTC()
	ranges, err := tc.orders.ReadFeedRanges(testCtx(t), nil)
	require.NoError(t, err)
	for i, r := range ranges { // a dead instance "ghost" held every lease
		d := leaseDoc{ID: "tax-" + string(rune('0'+i)), LeaseToken: string(rune('0' + i)), Version: 1, Monitored: "commerce/orders",
			FeedRange: leaseRange{Min: r.MinInclusive, Max: r.MaxExclusive}, Owner: "ghost/ApplyTax", Timestamp: now, ExpiresAt: now.Add(time.Second)}
		_, err := tc.leases.CreateItem(testCtx(t), azcosmos.NewPartitionKeyString(d.ID), mustJSON(d), nil)
		require.NoError(t, err)
	}
	_, logsA := startHost(t, root, fr.relay, tc.settings(), fastPoll, instanceID("a"))
	_, logsB := startHost(t, root, fr.relay, tc.settings(), fastPoll, instanceID("b"))
	docs := ids("d", 0, 20)
	for _, id := range docs {
		tc.insert(t, id)
	}
	calls := fr.until(t, docs...)
	for _, c := range calls {
		assert.True(t, c.At.After(now.Add(time.Second)), "nothing runs before the ghost's leases expire")
	}
	assert.Equal(t, docs, delivered(calls))
	require.Eventually(t, func() bool { c, _ := tc.owners(t); return c["a"] == 2 && c["b"] == 2 }, 10*time.Second, 20*time.Millisecond)
	assert.Regexp(t, `ApplyTax: [ab] took lease tax-\d .* \(expired; ghost held it until`, logsA.String()+logsB.String())
}

// A first round whose lease creation stopped part way (a throttled create
// left only the first range's lease): the host creates the missing leases
// and reads every partition.
func TestLeasesMissingForSomeRangesAreCreated(t *testing.T) {
	tc := startCosmosWith(t, 4)
	fr := newFeedRelay(t, ok)
	root := stageApp(t, forwardingHostJSON, map[string]string{"ApplyTax": triggerFn(``, "")}, nil)
	ranges, err := tc.orders.ReadFeedRanges(testCtx(t), nil)
	require.NoError(t, err)
	sort.Slice(ranges, func(i, j int) bool { return ranges[i].MinInclusive < ranges[j].MinInclusive })
	first := leaseDoc{ID: "tax-0", LeaseToken: "0", Version: 1, Monitored: "commerce/orders",
		FeedRange: leaseRange{Min: ranges[0].MinInclusive, Max: ranges[0].MaxExclusive}}
	_, err = tc.leases.CreateItem(testCtx(t), azcosmos.NewPartitionKeyString(first.ID), mustJSON(first), nil)
	require.NoError(t, err)

	startHost(t, root, fr.relay, tc.settings(), fastPoll, instanceID("a"))
	docs := ids("m", 0, 40) // spread over the four partitions
	for _, id := range docs {
		tc.insert(t, id)
	}
	assert.Equal(t, docs, delivered(fr.until(t, docs...)), "every partition is read")
	_, leases := tc.owners(t)
	assert.Len(t, leases, 4, "one lease per partition")
}

// A split partition: the lease is replaced by two child leases that start
// from its continuation, and every document is delivered once.
func TestSplitReplacesTheLeaseWithChildLeases(t *testing.T) {
	tc := startCosmosWith(t, 2)
	fr := newFeedRelay(t, ok)
	root := stageApp(t, forwardingHostJSON, map[string]string{"ApplyTax": triggerFn(``, "")}, nil)
	_, logs := startHost(t, root, fr.relay, tc.settings(), fastPoll, instanceID("a"))
	before := ids("b", 0, 20)
	for _, id := range before {
		tc.insert(t, id)
	}
	calls := fr.until(t, before...)
	require.Eventually(t, func() bool {
		_, leases := tc.owners(t)
		return len(leases) == 2 && leases[0].ContinuationToken != "" && leases[1].ContinuationToken != ""
	}, 10*time.Second, 20*time.Millisecond)

	res, err := tc.srv.Split("commerce", "orders", "0")
	require.NoError(t, err)
	after := ids("c", 0, 40)
	for _, id := range after {
		tc.insert(t, id)
	}
	calls = append(calls, fr.until(t, after...)...)
	assert.Equal(t, append(before, after...), delivered(calls), "every document exactly once across the split")

	_, _, err = (&leaseStore{c: tc.leases}).read(testCtx(t), "tax-0")
	assert.True(t, isNotFound(err), "the parent lease is gone: %v", err)
	for i, want := range res.Children {
		d := tc.lease(t, "tax-0."+string(rune('0'+i)))
		assert.Equal(t, leaseRange{Min: want.MinInclusive, Max: want.MaxExclusive}, d.FeedRange)
		assert.NotEmpty(t, d.ContinuationToken)
	}
	assert.Contains(t, logs.String(), `ApplyTax: lease tax-0 [`)
	assert.Contains(t, logs.String(), `is gone (partition split); a replaced it with tax-0.0 [`)
}

func TestChildContinuationKeepsTheParentsETag(t *testing.T) {
	parent := `{"version":1,"resourceId":"rid1","continuation":[{"minInclusive":"","maxExclusive":"80","continuationToken":"\"42\""}]}`
	got := childContinuation(parent, leaseRange{Min: "40", Max: "80"})
	assert.JSONEq(t, `{"version":1,"resourceId":"rid1","continuation":[{"minInclusive":"40","maxExclusive":"80","continuationToken":"\"42\""}]}`, got)
	assert.Equal(t, "", childContinuation("", leaseRange{Min: "40", Max: "80"}), "an unread parent gives an unread child")

	child := childLease(leaseDoc{ID: "tax-1", LeaseToken: "1", Monitored: "db/c", ContinuationToken: parent}, 1, leaseRange{Min: "40", Max: "80"})
	assert.Equal(t, "tax-1.1", child.ID)
	assert.Equal(t, "1.1", child.LeaseToken)
	assert.Empty(t, child.Owner, "free for any instance")
}

func TestSplitIsSeenInTheSDKsContinuation(t *testing.T) {
	one := `{"version":1,"resourceId":"r","continuation":[{"minInclusive":"","maxExclusive":"FF","continuationToken":"\"7\""}]}`
	two := `{"version":1,"resourceId":"r","continuation":[{"minInclusive":"80","maxExclusive":"FF","continuationToken":"\"7\""},{"minInclusive":"","maxExclusive":"80","continuationToken":"\"9\""}]}`
	_, gone := (&listener{}).splitOf(one, nil)
	assert.False(t, gone)
	children, gone := (&listener{}).splitOf(two, nil)
	assert.True(t, gone)
	assert.Equal(t, []leaseRange{{Min: "", Max: "80"}, {Min: "80", Max: "FF"}}, children)
	_, gone = (&listener{}).splitOf("", context.Canceled)
	assert.False(t, gone, "only a 410 with a split substatus")
}

// A lease asked for while its batch waits to be retried is handed over
// at once, without a checkpoint: the new owner gets the batch afresh.
func TestALeaseAskedForDuringRetriesIsHandedOver(t *testing.T) {
	tc := startCosmosWith(t, 2)
	fr := newFeedRelay(t, ok)
	retry := `{"strategy":"fixedDelay","maxRetryCount":-1,"delayInterval":"00:00:30"}`
	root := stageApp(t, forwardingHostJSON, map[string]string{"ApplyTax": triggerFn(``, retry)}, nil)
	a, logsA := startHost(t, root, fr.relay, tc.settings(), fastPoll, instanceID("a"))
	failing := pidOf(t, a)
	fr.setReply(func(c call) int {
		if c.Pid == failing {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	require.Eventually(t, func() bool { c, _ := tc.owners(t); return c["a"] == 2 }, 10*time.Second, 20*time.Millisecond)
	docs := ids("r", 0, 20)
	for _, id := range docs {
		tc.insert(t, id)
	}
	first := fr.next(t)
	require.Equal(t, failing, first.Pid)

	b, _ := startHost(t, root, fr.relay, tc.settings(), fastPoll, instanceID("b"))
	for {
		c := fr.next(t)
		if c.Pid != pidOf(t, b) {
			continue // a's other lease, still failing
		}
		assert.Equal(t, 0, c.Retry.RetryCount, "a fresh batch on the new owner")
		break
	}
	assert.Contains(t, logsA.String(), "ApplyTax: a handed lease tax-")
	assert.Contains(t, logsA.String(), "ApplyTax: retry 1 of unlimited in 30s")
}

func TestARangeGoneAnswerIsASplit(t *testing.T) {
	gone := func(sub string) error {
		return &azcore.ResponseError{StatusCode: http.StatusGone,
			RawResponse: &http.Response{StatusCode: http.StatusGone, Header: http.Header{"X-Ms-Substatus": {sub}}}}
	}
	for sub, want := range map[string]bool{"1002": true, "1007": true, "1000": false} {
		_, split := (&listener{}).splitOf("", gone(sub))
		assert.Equal(t, want, split, "410/%s", sub)
	}
}

func TestChildRangesAreTheCurrentRangesInsideTheParent(t *testing.T) {
	ranges := []leaseRange{{Min: "80", Max: "C0"}, {Min: "", Max: "40"}, {Min: "40", Max: "80"}, {Min: "C0", Max: "FF"}}
	assert.Equal(t, []leaseRange{{Min: "40", Max: "80"}, {Min: "80", Max: "C0"}}, within(ranges, leaseRange{Min: "40", Max: "C0"}))
	assert.Equal(t, []leaseRange{{Min: "80", Max: "C0"}, {Min: "C0", Max: "FF"}}, within(ranges, leaseRange{Min: "80", Max: "FF"}))
	assert.Equal(t, []leaseRange{{Min: "", Max: "40"}}, within(ranges, leaseRange{Min: "", Max: "40"}), "not split yet: one range")
}
