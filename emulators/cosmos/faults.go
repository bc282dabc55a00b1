package cosmos

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Fault injection: requests matching a fault (by operation and container)
// are delayed, answered with an error at a rate, or both, until the fault
// is cleared or expires. Nothing is injected unless asked.

// Operation types a fault can target.
const (
	OpRead       = "read"       // point read
	OpWrite      = "write"      // create, upsert, replace, patch, delete
	OpQuery      = "query"      // query (ReadMany included) and read feed
	OpBatch      = "batch"      // transactional batch
	OpChangeFeed = "changefeed" // change feed
	OpMetadata   = "metadata"   // account, databases, containers, partition key ranges
)

var faultOps = []string{OpRead, OpWrite, OpQuery, OpBatch, OpChangeFeed, OpMetadata}

// faultStatuses are the errors a fault can answer, with their substatus.
var faultStatuses = map[int]string{
	http.StatusRequestTimeout:      "0",
	http.StatusTooManyRequests:     substatusRequestRateTooLarge,
	statusRetryWith:                "0",
	http.StatusInternalServerError: "0",
	http.StatusServiceUnavailable:  "21008", // server generated 503
}

// Duration is a time.Duration written in JSON as "250ms", "10s".
type Duration time.Duration

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	*d = Duration(v)
	return err
}

// Fault is one fault to inject. The zero Op and Container match every
// request; a fault needs a Status with a Rate, a Latency, or both; or it
// is a Split of a partition key range of Container.
type Fault struct {
	Op         string   `json:"op,omitempty"`         // one of the Op* types; "" = every operation
	Container  string   `json:"container,omitempty"`  // container id; "" = every container (and the account)
	Status     int      `json:"status,omitempty"`     // 408, 429, 449, 500 or 503; 0 = no error
	Rate       float64  `json:"rate,omitempty"`       // with Status: the fraction of matching requests that fail, (0, 1]
	Latency    Duration `json:"latency,omitempty"`    // added to every matching request
	For        Duration `json:"for,omitempty"`        // the fault ends after this long; 0 = until cleared
	RetryAfter Duration `json:"retryAfter,omitempty"` // with 429: x-ms-retry-after-ms; default 100ms

	Split bool     `json:"split,omitempty"` // split a range of every container with id Container (required), nothing else
	Range string   `json:"range,omitempty"` // with Split: the range id; "" = the widest live range
	After Duration `json:"after,omitempty"` // with Split: split this long after injection; 0 = at once
}

// Unavailable is a fault that answers every request on container ("" =
// all) with 503 for d.
func Unavailable(container string, d time.Duration) Fault {
	return Fault{Container: container, Status: http.StatusServiceUnavailable, Rate: 1, For: Duration(d)}
}

// FaultState is an active fault and what it has done.
type FaultState struct {
	Fault
	ID       int        `json:"id"`
	Until    *time.Time `json:"until,omitempty"`
	Matched  int64      `json:"matched"`  // requests it delayed or could have failed
	Injected int64      `json:"injected"` // requests it failed

	Splits []SplitResult `json:"splits,omitempty"` // a split fault: the ranges it split, once done
	Error  string        `json:"error,omitempty"`  // a split fault that could not split
}

const maxFaults = 100

func (f Fault) validate() error {
	if f.Split || f.Range != "" || f.After != 0 {
		return f.validateSplit()
	}
	switch {
	case f.Op != "" && !slices.Contains(faultOps, f.Op):
		return fmt.Errorf("fault op %q is not one of %s", f.Op, strings.Join(faultOps, ", "))
	case f.Status != 0 && !hasStatus(f.Status):
		return fmt.Errorf("fault status %d is not one of 408, 429, 449, 500, 503", f.Status)
	case f.Status != 0 && (f.Rate <= 0 || f.Rate > 1):
		return fmt.Errorf("fault rate %v must be in (0, 1] with a status", f.Rate)
	case f.Status == 0 && f.Rate != 0:
		return fmt.Errorf("fault rate %v needs a status", f.Rate)
	case f.Status == 0 && f.Latency <= 0:
		return fmt.Errorf("a fault needs a status and a rate, a latency, or both")
	case f.Latency < 0 || f.For < 0 || f.RetryAfter < 0:
		return fmt.Errorf("fault durations must not be negative")
	case time.Duration(f.Latency) > time.Minute:
		return fmt.Errorf("fault latency %v is over a minute", time.Duration(f.Latency))
	}
	return nil
}

func hasStatus(status int) bool {
	_, ok := faultStatuses[status]
	return ok
}

// faults holds the active faults.
type faults struct {
	now func() time.Time

	count  atomic.Int32 // len(active), read without the lock on every request
	mu     sync.Mutex
	active []*FaultState
	splits []*splitFault // split faults, pending or done
	nextID int
}

func newFaults() *faults { return &faults{now: time.Now} }

// add activates a fault and returns its state.
func (fs *faults) add(f Fault) (FaultState, error) {
	if err := f.validate(); err != nil {
		return FaultState{}, err
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.expire()
	if len(fs.active) >= maxFaults {
		return FaultState{}, fmt.Errorf("at most %d faults at a time", maxFaults)
	}
	fs.nextID++
	st := &FaultState{Fault: f, ID: fs.nextID}
	if f.For > 0 {
		until := fs.now().Add(time.Duration(f.For))
		st.Until = &until
	}
	fs.active = append(fs.active, st)
	fs.count.Store(int32(len(fs.active)))
	return *st, nil
}

// list returns the active faults, then the split faults.
func (fs *faults) list() []FaultState {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.expire()
	out := make([]FaultState, 0, len(fs.active)+len(fs.splits))
	for _, st := range fs.active {
		out = append(out, *st)
	}
	for _, sf := range fs.splits {
		out = append(out, sf.state)
	}
	return out
}

// clear ends every fault and cancels the pending splits.
func (fs *faults) clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.active = nil
	fs.count.Store(0)
	for _, sf := range fs.splits {
		if sf.timer != nil {
			sf.timer.Stop()
			sf.timer = nil // a callback already waiting for the lock skips it
		}
	}
	fs.splits = nil
}

// expire drops ended faults; the caller holds fs.mu.
func (fs *faults) expire() {
	now := fs.now()
	fs.active = slices.DeleteFunc(fs.active, func(st *FaultState) bool { return st.Until != nil && !now.Before(*st.Until) })
	fs.count.Store(int32(len(fs.active)))
}

// match finds the latency to add and the error to answer for a request.
func (fs *faults) match(op, coll string) (time.Duration, *apiError) {
	if fs.count.Load() == 0 {
		return 0, nil
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.expire()
	var delay time.Duration
	var fail *apiError
	for _, st := range fs.active {
		if (st.Op != "" && st.Op != op) || (st.Container != "" && st.Container != coll) {
			continue
		}
		st.Matched++
		delay += time.Duration(st.Latency)
		if fail == nil && st.Status != 0 && rand.Float64() < st.Rate {
			st.Injected++
			fail = st.err()
		}
	}
	return delay, fail
}

func (st *FaultState) err() *apiError {
	e := newError(st.Status, "Injected fault %d: %s.", st.ID, http.StatusText(st.Status))
	e.substatus = faultStatuses[st.Status]
	if st.Status == http.StatusTooManyRequests {
		e.retryAfter = 100 * time.Millisecond
		if st.RetryAfter > 0 {
			e.retryAfter = time.Duration(st.RetryAfter)
		}
	}
	return e
}

// inject delays a request and returns the error a fault answers, if any.
func (fs *faults) inject(ctx context.Context, op, coll string) error {
	delay, fail := fs.match(op, coll)
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if fail != nil {
		return fail
	}
	return nil
}

// operation classifies a request for fault matching.
func operation(r *http.Request, rt route) string {
	switch {
	case rt.kind == "doc" && r.Method == http.MethodGet:
		return OpRead
	case rt.kind == "doc":
		return OpWrite
	case rt.kind == "docs" && r.Method == http.MethodGet && strings.EqualFold(header(r, hdrChangeFeed), "Incremental Feed"):
		return OpChangeFeed
	case rt.kind == "docs" && r.Method == http.MethodGet, rt.kind == "docs" && isQuery(r):
		return OpQuery
	case rt.kind == "docs" && isTrue(header(r, hdrIsBatch)):
		return OpBatch
	case rt.kind == "docs":
		return OpWrite
	}
	return OpMetadata
}

// InjectFault starts a fault and returns it with its id. A split fault
// splits at once (the state then lists the splits) or after f.After.
func (s *Server) InjectFault(f Fault) (FaultState, error) {
	if f.Split {
		return s.injectSplit(f)
	}
	return s.faults.add(f)
}

// Faults lists the active faults.
func (s *Server) Faults() []FaultState { return s.faults.list() }

// ClearFaults ends every fault.
func (s *Server) ClearFaults() { s.faults.clear() }
