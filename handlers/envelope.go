package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// invokeRequest is the host's envelope for a non-HTTP trigger.
type invokeRequest struct {
	Data     map[string]json.RawMessage `json:"Data"`
	Metadata struct {
		RetryContext *RetryContext `json:"RetryContext"`
	} `json:"Metadata"`
}

// RetryContext is present when the function has a retry policy.
// RetryCount is 0 on the first attempt.
type RetryContext struct {
	RetryCount    int             `json:"RetryCount"`
	MaxRetryCount int             `json:"MaxRetryCount"`
	Exception     json.RawMessage `json:"Exception,omitempty"`
}

// lastAttempt reports whether the host will not call again for this batch
// if this attempt fails: no retry policy at all, or the final retry. With
// maxRetryCount -1 the host retries forever.
func (r *RetryContext) lastAttempt() bool {
	return r == nil || (r.MaxRetryCount >= 0 && r.RetryCount >= r.MaxRetryCount)
}

func (r *RetryContext) count() int {
	if r == nil {
		return 0
	}
	return r.RetryCount
}

// invokeResponse is the reply the host expects from a trigger invocation.
type invokeResponse struct {
	Outputs     map[string]any `json:"Outputs"`
	Logs        []string       `json:"Logs"`
	ReturnValue any            `json:"ReturnValue"`
}

// maxEnvelope bounds an invocation body (maxItemsPerInvocation documents).
const maxEnvelope = 64 << 20

// decodeInvocation reads the envelope and the documents of binding name.
//
// Envelopes and change feed documents are decoded with the same decoder as
// the checkout body (github.com/go-json-experiment/json): a batch of 100
// documents arrives escaped twice, and its one-pass decoder reads that about
// twice as fast as encoding/json, which validates every input in a separate
// pass first (BenchmarkDecodeInvocation). The documents are this app's own
// writes, so its strictness (exact names, no duplicate keys, valid UTF-8)
// costs nothing; a document that fails it is dead-lettered as undecodable.
func decodeInvocation(r *http.Request, name string) (invokeRequest, []json.RawMessage, error) {
	var inv invokeRequest
	buf := scratchBuffer()
	defer recycle(buf) // inv holds copies of what it needs of the body
	body, err := readBody(r, buf)
	if err == nil {
		err = jsonv2.Unmarshal(body, &inv)
	}
	if err != nil {
		return inv, nil, fmt.Errorf("decode invocation envelope: %v: %w", err, order.ErrPermanent)
	}
	docs, err := decodeDocuments(inv.Data[name])
	return inv, docs, err
}

// readBody reads an envelope of at most maxEnvelope bytes into buf, grown
// once to the size the host announced, so that a batch is not copied again
// and again as a growing buffer fills.
func readBody(r *http.Request, buf *[]byte) ([]byte, error) {
	b := bytes.NewBuffer((*buf)[:0])
	if n := r.ContentLength; n > 0 && n <= maxEnvelope {
		b.Grow(int(n) + bytes.MinRead) // room to read EOF without growing
	}
	_, err := b.ReadFrom(http.MaxBytesReader(nil, r.Body, maxEnvelope))
	*buf = b.Bytes()
	return *buf, err
}

// scratch recycles the buffers an invocation's body is read and unwrapped
// in: each is about as large as the batch (100 KB for 100 documents), and a
// fresh one must be zeroed, which cost more than the unwrapping itself.
var scratch = sync.Pool{New: func() any { return new([]byte) }}

// maxScratch is the largest buffer kept for reuse; a larger batch's
// buffers are left to the garbage collector.
const maxScratch = 4 << 20

func scratchBuffer() *[]byte { return scratch.Get().(*[]byte) }

func recycle(bufs ...*[]byte) {
	for _, b := range bufs {
		if cap(*b) <= maxScratch {
			*b = (*b)[:0]
			scratch.Put(b)
		}
	}
}

// decodeDocuments unwraps the cosmosDBTrigger payload: the host sends the
// document array as a JSON string (sometimes a string of a string), so
// unwrap while the value is a JSON string, then split the array.
//
// Each level is unquoted straight into a scratch buffer, the last one is
// copied out, and the documents are slices of that copy: no string is built
// per level and no document is copied (BenchmarkDecodeDocuments). The
// decoder validates the array as encoding/json/v2's Unmarshal would
// (syntax, UTF-8, duplicate names), so what it accepts and refuses is
// unchanged.
func decodeDocuments(raw json.RawMessage) ([]json.RawMessage, error) {
	bufs := [2]*[]byte{scratchBuffer(), scratchBuffer()}
	defer recycle(bufs[:]...)
	unwrapped := false
	for i := 0; i < 4; i++ {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || raw[0] != '"' {
			break
		}
		buf := bufs[i%2] // the other one holds raw
		unquoted, err := jsontext.AppendUnquote((*buf)[:0], raw)
		*buf = unquoted
		if err != nil {
			return nil, fmt.Errorf("unwrap documents: %v: %w", err, order.ErrPermanent)
		}
		raw, unwrapped = unquoted, true
	}
	if unwrapped {
		raw = bytes.Clone(raw) // the documents outlive the scratch buffers
	}
	docs, err := splitArray(raw)
	if err != nil {
		return nil, fmt.Errorf("decode documents array: %v: %w", err, order.ErrPermanent)
	}
	return docs, nil
}

// splitArray returns the elements of the JSON array in raw as slices of
// raw; null is no elements.
func splitArray(raw []byte) ([]json.RawMessage, error) {
	dec := jsontext.NewDecoder(bytes.NewBuffer(raw)) // parses raw in place
	switch tok, err := dec.ReadToken(); {
	case err != nil:
		return nil, err
	case tok.Kind() == 'n':
		return nil, endOfInput(dec)
	case tok.Kind() != '[':
		return nil, fmt.Errorf("want an array, not %v", tok.Kind())
	}
	var docs []json.RawMessage
	for dec.PeekKind() != ']' {
		v, err := dec.ReadValue()
		if err != nil {
			return nil, err
		}
		end := int(dec.InputOffset())
		docs = append(docs, json.RawMessage(raw[end-len(v):end:end]))
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, err
	}
	return docs, endOfInput(dec)
}

// endOfInput fails if anything but white space follows the value read.
func endOfInput(dec *jsontext.Decoder) error {
	if _, err := dec.ReadToken(); err != io.EOF {
		return fmt.Errorf("data after the array at byte %d", dec.InputOffset())
	}
	return nil
}
