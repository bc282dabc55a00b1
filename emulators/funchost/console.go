package funchost

import (
	"bytes"
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
	line := fmt.Appendf(appendStamp(nil, time.Now()), format, args...)
	c.write(append(line, '\n'))
}

// lines prints each line of text (complete lines, or one piece of a long
// line) after the timestamp and prefix, in one write.
func (c *console) lines(prefix string, text []byte) {
	if len(text) == 0 {
		return
	}
	stamp := appendStamp(nil, time.Now())
	out := make([]byte, 0, len(text)+(len(stamp)+len(prefix)+1)*(bytes.Count(text, []byte{'\n'})+1))
	for len(text) > 0 {
		line, rest, _ := bytes.Cut(text, []byte{'\n'})
		out = append(append(append(out, stamp...), prefix...), bytes.TrimRight(line, "\r")...)
		out = append(out, '\n')
		text = rest
	}
	c.write(out)
}

func (c *console) write(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.w.Write(b) //nolint:errcheck // console output is best effort
}

// appendStamp appends "[2026-11-23T18:20:48.123Z] ".
func appendStamp(b []byte, t time.Time) []byte {
	b = append(b, '[')
	b = t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	return append(b, "] "...)
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
