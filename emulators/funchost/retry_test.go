package funchost

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// failFor fails every invocation that carries doc until it has failed n
// times (n < 0: forever).
func failFor(doc string, n int) func(call) int {
	failed := 0
	return func(c call) int {
		for _, d := range c.Docs {
			if d == doc && (n < 0 || failed < n) {
				failed++
				return http.StatusInternalServerError
			}
		}
		return http.StatusOK
	}
}

func retryCounts(calls []call) []int {
	var out []int
	for _, c := range calls {
		if c.Retry == nil {
			out = append(out, -100)
			continue
		}
		out = append(out, c.Retry.RetryCount)
	}
	return out
}

func startRetryHost(t *testing.T, retry string, reply func(call) int) (*testCosmos, *feedRelay, *syncBuffer) {
	tc := startCosmos(t)
	fr := newFeedRelay(t, reply)
	root := stageApp(t, forwardingHostJSON, map[string]string{"ApplyTax": triggerFn(``, retry)}, nil)
	_, logs := startHost(t, root, fr.relay, tc.settings(), fastPoll)
	return tc, fr, logs
}

func TestFixedDelayRetriesUntilSuccessThenCheckpoints(t *testing.T) {
	tc, fr, _ := startRetryHost(t, `{"strategy":"fixedDelay","maxRetryCount":3,"delayInterval":"00:00:00.010"}`, failFor("a", 2))

	tc.insert(t, "a")
	calls := []call{fr.next(t), fr.next(t), fr.next(t)}

	assert.Equal(t, []int{0, 1, 2}, retryCounts(calls))
	for _, c := range calls {
		assert.Equal(t, []string{"a"}, c.Docs)
		assert.Equal(t, 3, c.Retry.MaxRetryCount)
	}
	assert.Nil(t, calls[0].Retry.Exception)
	require.NotNil(t, calls[1].Retry.Exception)
	assert.Equal(t, "Microsoft.Azure.WebJobs.Host.FunctionInvocationException", calls[1].Retry.Exception.ClassName)
	assert.Equal(t, "Exception while executing function: Functions.ApplyTax", calls[1].Retry.Exception.Message)
	require.NotNil(t, calls[1].Retry.Exception.InnerException)
	assert.Equal(t, "Response status code does not indicate success: 500 (Internal Server Error).", calls[1].Retry.Exception.InnerException.Message)

	tc.insert(t, "b")
	next := fr.next(t)
	assert.Equal(t, []string{"b"}, next.Docs, "the checkpoint moves past a batch once it succeeds")
	assert.Equal(t, 0, next.Retry.RetryCount)
}

func TestCheckpointAdvancesAfterTheLastRetry(t *testing.T) {
	tc, fr, logs := startRetryHost(t, `{"strategy":"exponentialBackoff","maxRetryCount":2,"minimumInterval":"00:00:00.005","maximumInterval":"00:00:00.020"}`, failFor("a", -1))

	tc.insert(t, "a")
	calls := []call{fr.next(t), fr.next(t), fr.next(t)}
	assert.Equal(t, []int{0, 1, 2}, retryCounts(calls))

	tc.insert(t, "b")
	next := fr.next(t)
	assert.Equal(t, []string{"b"}, next.Docs, "after the last retry the host moves on")
	assert.Equal(t, 0, next.Retry.RetryCount)
	assert.Contains(t, logs.String(), "ApplyTax: all 2 retries failed; the checkpoint moves past these 1 documents")
}

func TestWithoutRetryPolicyAFailedBatchIsLost(t *testing.T) {
	tc, fr, _ := startRetryHost(t, "", failFor("a", -1))

	tc.insert(t, "a")
	first := fr.next(t)
	assert.Equal(t, []string{"a"}, first.Docs)
	assert.Nil(t, first.RetryRaw, "no RetryContext without a retry policy")

	tc.insert(t, "b")
	assert.Equal(t, []string{"b"}, fr.next(t).Docs)
}

func TestUnlimitedRetries(t *testing.T) {
	tc, fr, _ := startRetryHost(t, `{"strategy":"exponentialBackoff","maxRetryCount":-1,"minimumInterval":"00:00:00.001","maximumInterval":"00:00:00.010"}`, failFor("a", 6))

	tc.insert(t, "a")
	var calls []call
	for range 7 {
		calls = append(calls, fr.next(t))
	}
	assert.Equal(t, []int{0, 1, 2, 3, 4, 5, 6}, retryCounts(calls))
	for _, c := range calls {
		assert.Equal(t, -1, c.Retry.MaxRetryCount)
		assert.Equal(t, []string{"a"}, c.Docs)
	}
	tc.insert(t, "b")
	assert.Equal(t, []string{"b"}, fr.next(t).Docs)
}

// A host that stops while still retrying has not checkpointed: the next
// host gets the same documents again.
func TestNoCheckpointWhileRetrying(t *testing.T) {
	tc := startCosmos(t)
	fr := newFeedRelay(t, failFor("a", -1))
	retry := `{"strategy":"fixedDelay","maxRetryCount":-1,"delayInterval":"00:00:00.010"}`
	root := stageApp(t, forwardingHostJSON, map[string]string{"ApplyTax": triggerFn(``, retry)}, nil)
	first, _ := startHost(t, root, fr.relay, tc.settings(), fastPoll)

	tc.insert(t, "a")
	fr.next(t)
	fr.next(t)
	require.NoError(t, first.Close())
	drain(fr)

	fr.setReply(ok)
	startHost(t, root, fr.relay, tc.settings(), fastPoll)
	again := fr.next(t)
	assert.Equal(t, []string{"a"}, again.Docs)
	assert.Equal(t, 0, again.Retry.RetryCount, "a new host starts a fresh retry sequence")
}

func drain(fr *feedRelay) {
	for {
		select {
		case <-fr.calls:
		default:
			return
		}
	}
}

func TestReplyThatIsNotJSONFailsTheInvocation(t *testing.T) {
	replies := []int{notJSON, http.StatusOK}
	tc, fr, _ := startRetryHost(t, `{"strategy":"fixedDelay","maxRetryCount":1,"delayInterval":"00:00:00.010"}`, func(call) int {
		r := replies[0]
		replies = replies[1:]
		return r
	})

	tc.insert(t, "a")
	first, second := fr.next(t), fr.next(t)
	assert.Equal(t, 0, first.Retry.RetryCount)
	require.Equal(t, 1, second.Retry.RetryCount, "a 200 without Content-Type: application/json is a failed invocation")
	require.NotNil(t, second.Retry.Exception.InnerException)
	assert.Equal(t, "System.Net.Http.UnsupportedMediaTypeException", second.Retry.Exception.InnerException.ClassName)
}
