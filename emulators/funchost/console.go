package funchost

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// console writes timestamped lines a person can follow, in the style of
// Core Tools: "[2026-11-23T18:20:48.123Z] Executed 'Functions.ApplyTax' ...".
type console struct {
	mu sync.Mutex
	w  io.Writer
}

func (c *console) printf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.w, "[%s] %s\n", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), line)
}

// raw writes text without a timestamp (the start-up banner).
func (c *console) raw(text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	io.WriteString(c.w, text) //nolint:errcheck // console output is best effort
}

// invoked prints the one line per invocation.
func (c *console) invoked(function, id string, took time.Duration, outcome string) {
	c.printf("Executed 'Functions.%s' (%s, Id=%s, Duration=%dms)", function, outcome, id, took.Milliseconds())
}
