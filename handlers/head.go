package handlers

import (
	"bytes"
	"encoding/json"
	"sync"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// headDecoder is a decoder reused across documents: a fresh one per
// document cost more than reading the few members a head needs.
type headDecoder struct {
	buf bytes.Buffer
	dec jsontext.Decoder
}

var headDecoders = sync.Pool{New: func() any { return new(headDecoder) }}

// checkedHeadOf is headOf for a document decodeDocuments has checked (see
// checked): it reads the members in order and stops as soon as the head is
// known. This app writes id, orderId, kind and type first, so a stage reads
// a few dozen bytes of each document instead of all of it (an order has no
// type: its head is complete at kind and orderId when no member can be
// named type, see mayNameType). Skipping the rest changes no answer:
// docHead ignores every other member, and the checks a full decode would
// make of them (syntax, UTF-8, duplicate names) are done already. Anything
// unexpected (not an object, a head member that is not a string) is left to
// headOf, so the errors are the same.
func checkedHeadOf(doc json.RawMessage) (docHead, error) {
	hd := headDecoders.Get().(*headDecoder)
	defer headDecoders.Put(hd)
	hd.buf = *bytes.NewBuffer(doc) // the decoder reads doc in place
	hd.dec.Reset(&hd.buf, checked)
	head, ok := readHead(&hd.dec, !mayNameType(doc))
	hd.buf = bytes.Buffer{}
	hd.dec.Reset(&hd.buf) // hold on to no document in the pool
	if !ok {
		return headOf(doc, checked)
	}
	return head, nil
}

// The head members, as bits of what readHead has seen.
const (
	seenKind = 1 << iota
	seenOrderID
	seenType
)

// readHead reads the head members of the object dec is at; false if it
// meets anything headOf would refuse or read differently. noType says the
// object has no member named type: then it stops once it has kind and
// orderId.
func readHead(dec *jsontext.Decoder, noType bool) (docHead, bool) {
	var head docHead
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return head, false
	}
	seen := 0
	for dec.PeekKind() == '"' {
		name, err := dec.ReadValue()
		if err != nil || escaped(name) {
			return head, false // headOf unquotes an escaped name
		}
		bit := headMember(name)
		if bit == 0 {
			if dec.SkipValue() != nil {
				return head, false
			}
			continue
		}
		if dec.PeekKind() != '"' {
			return head, false // null, or a type error headOf reports
		}
		v, err := dec.ReadValue()
		if err != nil || escaped(v) {
			return head, false
		}
		head.set(bit, v[1:len(v)-1])
		if seen |= bit; seen == seenKind|seenOrderID|seenType || noType && seen == seenKind|seenOrderID {
			return head, true
		}
	}
	_, err := dec.ReadToken() // the closing brace
	return head, err == nil
}

// headMember is the bit of the member named by the quoted name, 0 if
// docHead has no such member.
func headMember(name []byte) int {
	switch string(name) {
	case `"kind"`:
		return seenKind
	case `"orderId"`:
		return seenOrderID
	case `"type"`:
		return seenType
	}
	return 0
}

// set stores the (unescaped) string v in the member bit names. The kinds and
// event types are shared strings, not one copy per document.
func (h *docHead) set(bit int, v []byte) {
	switch bit {
	case seenKind:
		h.Kind = intern(v, order.KindOrder, order.KindEvent)
	case seenOrderID:
		h.OrderID = string(v)
	case seenType:
		h.Type = order.EventType(intern(v, eventTypeNames...))
	}
}

var eventTypeNames = func() []string {
	names := make([]string, len(allEvents))
	for i, t := range allEvents {
		names[i] = string(t)
	}
	return names
}()

func intern(v []byte, known ...string) string {
	for _, k := range known {
		if string(v) == k {
			return k
		}
	}
	return string(v)
}

// mayNameType reports whether a member of doc may be named type: the name
// appears as such, or a \u escape could spell it. An order document has no
// type, so a stage stops reading it at its kind and orderId.
func mayNameType(doc []byte) bool {
	return bytes.Contains(doc, []byte(`"type"`)) || bytes.Contains(doc, []byte(`\u`))
}

func escaped(quoted []byte) bool { return bytes.IndexByte(quoted, '\\') >= 0 }
