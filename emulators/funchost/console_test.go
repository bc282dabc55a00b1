package funchost

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// writes records each console write.
type writes struct{ got []string }

func (w *writes) Write(b []byte) (int, error) {
	w.got = append(w.got, string(b))
	return len(b), nil
}

var stamp = regexp.MustCompile(`(?m)^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] `)

func TestHandlerOutputIsPrintedByLine(t *testing.T) {
	out := &writes{}
	w := &lineWriter{con: &console{w: out}, prefix: "handler: "}
	w.Write([]byte("one\r\ntw"))
	w.Write([]byte("o\nthree\nfour\n"))
	w.Write([]byte("no end yet"))
	var plain []string
	for _, s := range out.got {
		assert.Regexp(t, stamp, s)
		plain = append(plain, stamp.ReplaceAllString(s, ""))
	}
	assert.Equal(t, []string{"handler: one\n", "handler: two\nhandler: three\nhandler: four\n"}, plain,
		"complete lines only, the lines of one write in one console write")
}

func TestHandlerLineWithoutEndIsBounded(t *testing.T) {
	out := &writes{}
	w := &lineWriter{con: &console{w: out}, prefix: "h: "}
	piece := strings.Repeat("x", maxOutputLine/4)
	for range 5 {
		w.Write([]byte(piece))
	}
	assert.Len(t, out.got, 1, "printed once maxOutputLine has arrived")
	assert.Equal(t, "h: "+strings.Repeat(piece, 4)+"\n", stamp.ReplaceAllString(out.got[0], ""))
	assert.Len(t, w.buf, len(piece), "only the rest is held")
}

func TestConsolePrintf(t *testing.T) {
	out := &writes{}
	(&console{w: out}).invoked("ApplyTax", "id-1", 1500000, "Succeeded, Documents=2")
	assert.Len(t, out.got, 1)
	assert.Equal(t, "Executed 'Functions.ApplyTax' (Succeeded, Documents=2, Id=id-1, Duration=1ms)\n", stamp.ReplaceAllString(out.got[0], ""))
}
