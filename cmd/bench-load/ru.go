package main

import (
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"time"
)

// ruCollector sums the request charge the handler logs when each
// invocation finishes ("invocation finished" with function and ru, at info
// level), by function.
type ruCollector struct {
	mu   sync.Mutex
	fns  map[string]*ruSum
	last time.Time // when the last line was counted
}

type ruSum struct {
	invocations int
	ru          float64
}

func newRUCollector() *ruCollector { return &ruCollector{fns: map[string]*ruSum{}} }

const ruMarker = `"invocation finished"`

// line takes one console line; lines other than the handler's
// "invocation finished" are ignored.
func (c *ruCollector) line(s string) {
	if !strings.Contains(s, ruMarker) {
		return
	}
	i := strings.IndexByte(s, '{')
	if i < 0 {
		return
	}
	var l struct {
		Function string  `json:"function"`
		RU       float64 `json:"ru"`
	}
	if json.Unmarshal([]byte(s[i:]), &l) != nil || l.Function == "" || l.Function == setupFunction {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = time.Now()
	sum := c.fns[l.Function]
	if sum == nil {
		sum = &ruSum{}
		c.fns[l.Function] = sum
	}
	sum.invocations++
	sum.ru += l.RU
}

// setupFunction is called once by bench-load itself before the load.
const setupFunction = "ListProducts"

// settle waits until no invocation line has arrived for quiet (the handler
// logs an invocation just after answering it), or until limit passes.
func (c *ruCollector) settle(quiet, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		idle := time.Since(c.last)
		c.mu.Unlock()
		if idle >= quiet {
			return
		}
		time.Sleep(quiet - idle)
	}
}

// reset forgets what was counted so far (the set-up's calls).
func (c *ruCollector) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fns = map[string]*ruSum{}
}

// stageRU is one function's share.
type stageRU struct {
	Function    string
	Invocations int
	RU          float64
}

func (c *ruCollector) snapshot() []stageRU {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]stageRU, 0, len(c.fns))
	for fn, s := range c.fns {
		out = append(out, stageRU{Function: fn, Invocations: s.invocations, RU: s.ru})
	}
	sort.Slice(out, func(i, j int) bool { return stageOrder(out[i].Function) < stageOrder(out[j].Function) })
	return out
}

// stageOrder sorts functions in the order an order meets them.
func stageOrder(fn string) string {
	for i, f := range []string{"Checkout", "ApplyTax", "ProcessPayment", "FulfilOrder", "PublishEvents"} {
		if f == fn {
			return string(rune('0' + i))
		}
	}
	return "9" + fn
}
