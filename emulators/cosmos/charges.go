package cosmos

import (
	"net/http"
	"sort"
	"sync"
)

// ChargeTotal is the request units charged, and the requests answered, for
// one container and kind of operation since the emulator started. A
// container that only one client uses (a lease container) or an operation
// only one client sends (the change feed, read by the Functions host)
// tells that client's cost apart.
type ChargeTotal struct {
	Container string  `json:"container"` // "" for account and database requests
	Op        string  `json:"op"`        // one of the Op* kinds
	Requests  int64   `json:"requests"`
	RU        float64 `json:"ru"`
}

type chargeKey struct{ container, op string }

// charges sums what every request was charged.
type charges struct {
	mu  sync.Mutex
	sum map[chargeKey]*ChargeTotal
}

func (c *charges) add(container, op string, ru float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sum == nil {
		c.sum = map[chargeKey]*ChargeTotal{}
	}
	k := chargeKey{container, op}
	t := c.sum[k]
	if t == nil {
		t = &ChargeTotal{Container: container, Op: op}
		c.sum[k] = t
	}
	t.Requests++
	t.RU += ru
}

func (c *charges) list() []ChargeTotal {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]ChargeTotal, 0, len(c.sum))
	for _, t := range c.sum {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Container != out[j].Container {
			return out[i].Container < out[j].Container
		}
		return out[i].Op < out[j].Op
	})
	return out
}

// Charges lists the request units charged so far, by container and
// operation (GET /_emulator/charges).
func (s *Server) Charges() []ChargeTotal { return s.charges.list() }

func init() {
	controlHandlers["GET charges"] = (*Server).controlCharges
}

func (s *Server) controlCharges(w http.ResponseWriter, _ *http.Request) error {
	return controlJSON(w, http.StatusOK, s.Charges())
}
