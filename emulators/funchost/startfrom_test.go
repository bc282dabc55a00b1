package funchost

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// waitForNextSecond lets the clock pass a whole second so that documents
// written before it are older than any start time taken after it (the
// change feed's If-Modified-Since has one-second resolution).
func waitForNextSecond() time.Time {
	next := time.Now().Truncate(time.Second).Add(time.Second)
	time.Sleep(time.Until(next) + 10*time.Millisecond)
	return next
}

func TestStartsFromNowByDefault(t *testing.T) {
	tc := startCosmos(t)
	tc.insert(t, "old")
	waitForNextSecond()
	fr := newFeedRelay(t, ok)
	fj := `{"bindings":[{"type":"cosmosDBTrigger","direction":"in","name":"documents","connection":"COSMOS",
		"databaseName":"commerce","containerName":"orders","leaseContainerPrefix":"now-","leaseContainerName":"leases"}]}`
	startHost(t, stageApp(t, forwardingHostJSON, map[string]string{"Fresh": fj}, nil), fr.relay, tc.settings(), fastPoll)

	tc.insert(t, "new")
	assert.Equal(t, []string{"new"}, fr.next(t).Docs)
}

func TestStartFromTime(t *testing.T) {
	tc := startCosmos(t)
	tc.insert(t, "before")
	from := waitForNextSecond()
	tc.insert(t, "after")
	fr := newFeedRelay(t, ok)
	root := stageApp(t, forwardingHostJSON, map[string]string{"ApplyTax": triggerFn(`,"startFromBeginning":false,"startFromTime":"`+from.UTC().Format(time.RFC3339)+`"`, "")}, nil)
	startHost(t, root, fr.relay, tc.settings(), fastPoll)

	assert.Equal(t, []string{"after"}, fr.next(t).Docs)
}

func TestStartFromBeginningDeliversEverything(t *testing.T) {
	tc := startCosmos(t)
	tc.insert(t, "a", "b")
	fr := newFeedRelay(t, ok)
	root := stageApp(t, forwardingHostJSON, map[string]string{"ApplyTax": triggerFn(``, "")}, nil)
	startHost(t, root, fr.relay, tc.settings(), fastPoll)
	assert.Equal(t, []string{"a", "b"}, delivered(fr.until(t, "a", "b")))
}
