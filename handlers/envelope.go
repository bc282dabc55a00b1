package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// invokeRequest is the host's envelope for a non-HTTP trigger.
type invokeRequest struct {
	Data     map[string]json.RawMessage `json:"Data"`
	Metadata invocationMetadata         `json:"Metadata"`
}

type invocationMetadata struct {
	RetryContext *RetryContext `json:"RetryContext"`
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

// decodeInvocation reads the envelope and the documents of binding name,
// and returns the documents and the envelope's RetryContext.
//
// Envelopes and change feed documents are decoded with the same decoder as
// the checkout body (github.com/go-json-experiment/json): a batch of 100
// documents arrives escaped twice, and its one-pass decoder reads that about
// twice as fast as encoding/json, which validates every input in a separate
// pass first (BenchmarkDecodeInvocation). The documents are this app's own
// writes, so its strictness (exact names, no duplicate keys, valid UTF-8)
// costs nothing; a document that fails it is dead-lettered as undecodable.
//
// The envelope is read in one pass of tokens (see scanEnvelope) that keeps
// the documents where they are in the body instead of copying them out as
// Unmarshal into invokeRequest would, and the documents string, most of the
// body, is unquoted straight out of it and not read by the decoder too (see
// scanAround). What each accepts is what that Unmarshal accepts, and any
// envelope they do not take is decoded by Unmarshal again, so the errors
// are Unmarshal's.
func decodeInvocation(r *http.Request, name string) (*RetryContext, []json.RawMessage, error) {
	buf := scratchBuffer()
	defer recycle(buf) // the documents are unquoted or copied out of the body
	body, err := readBody(r, buf)
	if err != nil {
		return nil, nil, envelopeError(err)
	}
	u := newUnwrapper()
	defer u.release()
	meta, raw, ok := u.scanAround(body, name)
	if !ok {
		var lo, hi int
		if meta, lo, hi, ok = scanEnvelope(body, name); ok && lo >= 0 {
			raw = body[lo:hi:hi]
		}
	}
	if !ok {
		var inv invokeRequest
		if err := jsonv2.Unmarshal(body, &inv); err != nil {
			return nil, nil, envelopeError(err)
		}
		meta, raw = inv.Metadata, inv.Data[name]
	}
	docs, err := u.documents(raw)
	return meta.RetryContext, docs, err
}

func envelopeError(err error) error {
	return fmt.Errorf("decode invocation envelope: %v: %w", err, order.ErrPermanent)
}

// scanAround is scanEnvelope for an envelope as the host writes it, with
// the documents as a string right after their name (`"documents":"…`): it
// unquotes that string itself, out of the body into u, and has the decoder
// read the envelope with "" in its place. That is the same envelope to the
// decoder but for the string, whose syntax and UTF-8 unquoteString checks
// as strictly, so what it accepts is what scanEnvelope accepts, and the
// string is read once, not validated first and unquoted after. The decoder
// must find the "" it put in as the value of Data.<name>; false for any
// other envelope, and for any error (scanEnvelope is to try).
func (u *unwrapper) scanAround(body []byte, name string) (meta invocationMetadata, raw []byte, ok bool) {
	key := `"` + name + `":"`
	at := bytes.Index(body, []byte(key))
	if at < 0 {
		return meta, nil, false
	}
	start := at + len(key) - 1 // the string's opening quote
	out := slices.Grow((*u.bufs[0])[:0], len(body)-start)
	w, end, ok := unquoteString(out[:len(body)-start], body[start:])
	if !ok {
		return meta, nil, false
	}
	rest := make([]byte, 0, len(body)-end+2)
	rest = append(append(append(rest, body[:start]...), `""`...), body[start+end:]...)
	meta, lo, hi, ok := scanEnvelope(rest, name)
	if !ok || lo != start || hi != start+2 {
		return meta, nil, false
	}
	*u.bufs[0], u.last = out[:w], 0
	return meta, *u.bufs[0], true
}

// scanEnvelope reads body as jsonv2.Unmarshal into invokeRequest would,
// with the same decoder (so the same checks of syntax, UTF-8 and duplicate
// names), but keeps of Data only where the value of binding name is in body,
// body[lo:hi] (lo < 0 if there is none). false: body is not an envelope it
// reads (an error, or null), and Unmarshal is to say why.
func scanEnvelope(body []byte, name string) (meta invocationMetadata, lo, hi int, ok bool) {
	lo = -1
	dec := jsontext.NewDecoder(bytes.NewBuffer(body)) // parses body in place
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return meta, lo, hi, false
	}
	for dec.PeekKind() == '"' {
		tok, err := dec.ReadToken()
		if err != nil {
			return meta, lo, hi, false
		}
		switch tok.String() {
		case "Data":
			lo, hi, ok = scanData(dec, name)
		case "Metadata":
			ok = jsonv2.UnmarshalDecode(dec, &meta) == nil
		default:
			ok = dec.SkipValue() == nil
		}
		if !ok {
			return meta, lo, hi, false
		}
	}
	if _, err := dec.ReadToken(); err != nil { // the closing brace
		return meta, lo, hi, false
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return meta, lo, hi, false
	}
	return meta, lo, hi, true
}

// scanData reads the Data object dec is at and returns where the value of
// its member name is in the input (lo < 0 if there is none).
func scanData(dec *jsontext.Decoder, name string) (lo, hi int, ok bool) {
	lo = -1
	switch tok, err := dec.ReadToken(); {
	case err != nil:
		return lo, hi, false
	case tok.Kind() == 'n':
		return lo, hi, true
	case tok.Kind() != '{':
		return lo, hi, false
	}
	for dec.PeekKind() == '"' {
		tok, err := dec.ReadToken()
		if err != nil {
			return lo, hi, false
		}
		if tok.String() != name {
			if dec.SkipValue() != nil {
				return lo, hi, false
			}
			continue
		}
		v, err := dec.ReadValue()
		if err != nil {
			return lo, hi, false
		}
		hi = int(dec.InputOffset())
		lo = hi - len(v)
	}
	_, err := dec.ReadToken() // the closing brace
	return lo, hi, err == nil
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
// Each level is unquoted straight into a scratch buffer (see appendUnquote),
// and the documents are slices of the last one, which is not recycled but
// left to them: no string is built per level and no document is copied
// (BenchmarkDecodeDocuments). The decoder validates the array as
// encoding/json/v2's Unmarshal would (syntax, UTF-8, duplicate names), so
// what it accepts and refuses is unchanged.
func decodeDocuments(raw json.RawMessage) ([]json.RawMessage, error) {
	u := newUnwrapper()
	defer u.release()
	return u.documents(raw)
}

// unwrapper holds the two buffers the levels of a documents string are
// unquoted into, one level from the other.
type unwrapper struct {
	bufs [2]*[]byte
	last int // the buffer the last level is in, -1 if none
}

func newUnwrapper() *unwrapper {
	return &unwrapper{bufs: [2]*[]byte{scratchBuffer(), scratchBuffer()}, last: -1}
}

// release recycles the buffers but the one the documents are in.
func (u *unwrapper) release() {
	for i, b := range u.bufs {
		if i != u.last {
			recycle(b)
		}
	}
}

// documents unwraps raw (in the buffer u.last, or not in u at all: then it
// may be a slice of a recycled buffer, the body, and an array that was not
// wrapped in a string is copied out) and splits the array.
func (u *unwrapper) documents(raw json.RawMessage) ([]json.RawMessage, error) {
	for i := 0; i < 4; i++ {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || raw[0] != '"' {
			break
		}
		next := 1 - max(u.last, 0) // the other one holds raw
		buf := u.bufs[next]
		unquoted, err := appendUnquote((*buf)[:0], raw)
		*buf = unquoted
		if err != nil {
			return nil, fmt.Errorf("unwrap documents: %v: %w", err, order.ErrPermanent)
		}
		raw, u.last = unquoted, next
	}
	if u.last < 0 {
		raw = bytes.Clone(raw) // the documents outlive the body
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
