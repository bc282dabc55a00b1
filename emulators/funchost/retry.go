package funchost

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// retryPolicy is the "retry" section of function.json.
type retryPolicy struct {
	Strategy      string // "fixedDelay" or "exponentialBackoff"
	MaxRetryCount int    // -1 = retry forever
	Delay         time.Duration
	Min, Max      time.Duration
}

type retryJSON struct {
	Strategy        string  `json:"strategy"`
	MaxRetryCount   *int    `json:"maxRetryCount"`
	DelayInterval   *string `json:"delayInterval"`
	MinimumInterval *string `json:"minimumInterval"`
	MaximumInterval *string `json:"maximumInterval"`
}

var retryKeys = map[string]bool{"strategy": true, "maxretrycount": true, "delayinterval": true, "minimuminterval": true, "maximuminterval": true}

func parseRetry(file string, raw map[string]json.RawMessage) (*retryPolicy, error) {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: retry: "+format, append([]any{file}, args...)...))
	}
	for k := range raw {
		if !retryKeys[strings.ToLower(k)] {
			fail("property %q is not supported", k)
		}
	}
	b, _ := json.Marshal(raw) // re-encoding a decoded map cannot fail
	var rj retryJSON
	if err := json.Unmarshal(b, &rj); err != nil {
		fail("%v", err)
		return nil, errors.Join(errs...)
	}
	p := &retryPolicy{}
	p.read(rj, fail)
	return p, errors.Join(errs...)
}

func (p *retryPolicy) read(rj retryJSON, fail func(string, ...any)) {
	if rj.MaxRetryCount == nil || *rj.MaxRetryCount < -1 {
		fail("maxRetryCount is required and must be -1 (forever) or more")
	} else {
		p.MaxRetryCount = *rj.MaxRetryCount
	}
	span := func(key string, v *string) time.Duration {
		if v == nil {
			fail("%s is required for strategy %q", key, rj.Strategy)
			return 0
		}
		d, err := parseTimeSpan(*v)
		if err != nil || d < 0 {
			fail("%s: %q is not a non-negative TimeSpan", key, *v)
		}
		return d
	}
	switch strings.ToLower(rj.Strategy) {
	case "fixeddelay":
		p.Strategy, p.Delay = "fixedDelay", span("delayInterval", rj.DelayInterval)
	case "exponentialbackoff":
		p.Strategy = "exponentialBackoff"
		p.Min, p.Max = span("minimumInterval", rj.MinimumInterval), span("maximumInterval", rj.MaximumInterval)
		if p.Min > p.Max {
			fail("minimumInterval must not be greater than maximumInterval")
		}
	default:
		fail("strategy %q is not fixedDelay or exponentialBackoff", rj.Strategy)
	}
}

// backoff yields the delays before each retry, as the WebJobs SDK
// computes them: fixedDelay waits delayInterval every time;
// exponentialBackoff starts at minimumInterval and adds a randomised
// (±20%) minimumInterval*2^(n-1), capped at maximumInterval.
type backoff struct {
	p        *retryPolicy
	current  time.Duration
	exponent int
	jitter   func() float64 // in [0.8, 1.2)
}

func newBackoff(p *retryPolicy) *backoff {
	return &backoff{p: p, jitter: func() float64 { return 0.8 + 0.4*rand.Float64() }}
}

func (b *backoff) next() time.Duration {
	if b.p.Strategy == "fixedDelay" {
		return b.p.Delay
	}
	if b.current == b.p.Max {
		return b.current // stays at the maximum once reached
	}
	d := b.p.Min
	if b.exponent > 0 {
		d += time.Duration(b.jitter() * math.Pow(2, float64(b.exponent-1)) * float64(b.p.Min))
	}
	if d < b.p.Max {
		b.current = d
		b.exponent++
		return d
	}
	b.current = b.p.Max
	return b.current
}

// retryContext is Metadata.RetryContext as the host sends it.
type retryContext struct {
	RetryCount    int              `json:"RetryCount"`
	MaxRetryCount int              `json:"MaxRetryCount"`
	Exception     *dotnetException `json:"Exception"`
}
