package cosmos

import (
	"encoding/json"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Time to live, as Cosmos DB does it
// (https://learn.microsoft.com/azure/cosmos-db/time-to-live). A container's
// defaultTtl turns it on: without one (or null) no item expires, whatever
// its own ttl says; -1, an item expires only when its ttl says so; n, an
// item expires n seconds after its last write unless its ttl says
// otherwise (-1 is never). An expired item is gone at once for every read,
// query, feed and write (a create of its id succeeds), and sweep deletes it
// for good soon after, as the service does in the background: the change
// feed, which shows no deletes, no longer has it.

// ttlOff is a container's time to live when it has no defaultTtl.
const ttlOff = 0

// maxTTL is the largest time to live, in seconds (an int32).
const maxTTL = math.MaxInt32

// ttlError is the service's answer to a time to live that is not -1 or a
// positive int32; what is the property (ttl or defaultTtl), raw its JSON.
func ttlError(what string, raw []byte) *apiError {
	return errBadRequest("The input %s '%s' is invalid. Ensure to provide a nonzero positive integer less than or equal to '%d', or '-1' which means never expire.",
		what, raw, maxTTL)
}

// parseTTL reads the JSON of a ttl or defaultTtl: -1 or 1..maxTTL.
func parseTTL(what string, raw []byte) (int64, *apiError) {
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil || f != math.Trunc(f) || (f != -1 && (f < 1 || f > maxTTL)) {
		return 0, ttlError(what, raw)
	}
	return int64(f), nil
}

// containerTTL reads a container's defaultTtl from its properties: ttlOff
// when absent or null.
func containerTTL(props map[string]any) (int64, *apiError) {
	v, ok := props["defaultTtl"]
	if !ok || v == nil {
		return ttlOff, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return 0, ttlError("defaultTtl", []byte(strconv.Quote(err.Error())))
	}
	return parseTTL("defaultTtl", raw)
}

// propertiesTTL is the defaultTtl of a container's properties JSON, which
// containerTTL checked when they were written.
func propertiesTTL(body []byte) int64 {
	var p struct {
		DefaultTTL *float64 `json:"defaultTtl"`
	}
	if json.Unmarshal(body, &p) != nil || p.DefaultTTL == nil {
		return ttlOff
	}
	return int64(*p.DefaultTTL)
}

// itemTTL reads an item's own ttl: 0 when it has none.
func itemTTL(it *item) (int32, *apiError) {
	var raw []byte
	if it.value != nil {
		v, ok := it.value["ttl"]
		if !ok {
			return 0, nil
		}
		raw, _ = json.Marshal(v)
	} else if m, ok := it.member("ttl"); ok {
		raw = m
	} else {
		return 0, nil
	}
	t, err := parseTTL("ttl", raw)
	return int32(t), err
}

// storedTTL is the ttl of a stored item's decoded body (0: none); it was
// checked when the item was written.
func storedTTL(v map[string]any) int32 {
	t, _ := v["ttl"].(float64)
	return int32(t)
}

// timeSource is the emulator's time, shared by its containers; tests set it
// through Options.Now.
type timeSource struct{ now func() time.Time }

var systemClock = &timeSource{now: time.Now}

// expired reports whether d has outlived its time to live at now (Unix
// seconds). The caller holds c.mu.
func (c *container) expired(d *document, now int64) bool {
	def := c.ttl.Load()
	if def == ttlOff {
		return false
	}
	t := int64(d.ttl)
	if t == 0 {
		t = def
	}
	return t > 0 && now >= d.ts+t
}

// live reports whether d has not expired, reading the clock only when the
// container has time to live on.
func (c *container) live(d *document) bool {
	return c.ttl.Load() == ttlOff || !c.expired(d, c.clock.now().Unix())
}

// maxSweep is the most expired items one sweep of a container deletes;
// the next sweep takes the rest.
const maxSweep = 1000

// sweepExpired deletes the container's expired items, as one commit: the
// service's background deletion, which no client asked for and no client
// is charged for here. It visits only the expired items (expiry.go).
func (c *container) sweepExpired() (*pending, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.deleted || c.ttl.Load() == ttlOff {
		return nil, 0
	}
	now := c.clock.now()
	st := &stage{c: c, lsn: c.lsn, now: now}
	for _, key := range c.expiry.due(c.docs, c.ttl.Load(), now.Unix(), maxSweep) {
		st.changes = append(st.changes, change{key: key}) // keys are unique: no set
	}
	return c.commit(st), len(st.changes)
}

// sweeper deletes expired items every interval until stop is closed.
type sweeper struct {
	stop    chan struct{}
	done    sync.WaitGroup
	deleted atomic.Int64 // expired items deleted so far
}

// sweepInterval is how often the emulator deletes expired items.
const sweepInterval = time.Second

func startSweeper(st *store, interval time.Duration) *sweeper {
	sw := &sweeper{stop: make(chan struct{})}
	sw.done.Go(func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-sw.stop:
				return
			case <-tick.C:
				sw.deleted.Add(int64(st.sweepExpired()))
			}
		}
	})
	return sw
}

func (sw *sweeper) close() {
	close(sw.stop)
	sw.done.Wait()
}

// sweepExpired sweeps every container that has time to live on, waits
// for the deletions to be durable and returns how many there were.
func (s *store) sweepExpired() int {
	n := 0
	for _, c := range s.ttlContainers() {
		p, deleted := c.sweepExpired()
		if err := p.wait(); err == nil { // a failed commit fails the container's durable horizon
			n += deleted
		}
	}
	return n
}

// Expired is how many expired items the emulator has deleted for good
// since it started.
func (s *Server) Expired() int64 { return s.sweeper.deleted.Load() }

func (s *store) ttlContainers() []*container {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*container
	for _, d := range s.dbs {
		for _, c := range d.colls {
			if c.ttl.Load() != ttlOff {
				out = append(out, c)
			}
		}
	}
	return out
}
