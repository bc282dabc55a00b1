package handlers

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sameHead fails unless checkedHeadOf reads doc, one document of a batch
// decodeDocuments accepted, as headOf does: the same head or the same error.
func sameHead(t *testing.T, doc []byte) {
	t.Helper()
	want, wantErr := headOf(doc, checked)
	got, gotErr := checkedHeadOf(doc)
	assert.Equal(t, want, got)
	if wantErr == nil {
		assert.NoError(t, gotErr)
	} else {
		assert.EqualError(t, gotErr, wantErr.Error())
	}
}

func TestCheckedHeadOfReadsAsHeadOf(t *testing.T) {
	for name, doc := range map[string]string{
		"event":                   `{"id":"o:OrderPlaced","orderId":"o","kind":"event","seq":1,"type":"OrderPlaced","data":{"type":"x"}}`,
		"order":                   `{"id":"o","orderId":"o","kind":"order","status":"Placed","lines":[{"type":"a"}]}`,
		"type before kind":        `{"type":"TaxApplied","orderId":"o","kind":"event"}`,
		"no type":                 `{"orderId":"o","kind":"event","seq":1}`,
		"no orderId":              `{"kind":"order","id":"o"}`,
		"other kind":              `{"kind":"idempotency","orderId":"o","type":"OrderPlaced"}`,
		"unknown type":            `{"kind":"event","orderId":"o","type":"Gone"}`,
		"null kind":               `{"kind":null,"orderId":"o"}`,
		"number kind":             `{"kind":5,"orderId":"o"}`,
		"object orderId":          `{"kind":"event","orderId":{"a":1},"type":"OrderPlaced"}`,
		"escaped name":            `{"\u006bind":"event","orderId":"o","type":"OrderPlaced"}`,
		"escaped value":           `{"kind":"ev\u0065nt","orderId":"o\"","type":"OrderPlaced"}`,
		"not an object":           `["kind","event"]`,
		"a string":                `"kind"`,
		"empty":                   `{}`,
		"upper-case names":        `{"KIND":"event","OrderId":"o","Type":"OrderPlaced"}`,
		"order, type later":       `{"orderId":"o","kind":"order","lines":[],"type":"OrderPlaced"}`,
		"order, bad type later":   `{"orderId":"o","kind":"order","lines":[],"type":5}`,
		"order, escaped type":     `{"orderId":"o","kind":"order","lines":[],"\u0074ype":5}`,
		"order, nested type":      `{"orderId":"o","kind":"order","lines":[{"type":5}]}`,
		"order, type in a string": `{"orderId":"o","kind":"order","name":"a \"type\" b"}`,
		"head after nested value": `{"data":{"kind":"order","orderId":"x"},"kind":"event","orderId":"o","type":"PaymentCaptured"}`,
	} {
		t.Run(name, func(t *testing.T) {
			docs, err := decodeDocuments([]byte("[" + doc + "]"))
			require.NoError(t, err)
			require.Len(t, docs, 1)
			sameHead(t, docs[0])
		})
	}
}

func TestCheckedHeadOfStopsAtTheHead(t *testing.T) {
	// Past the head the document is not read again: decodeDocuments checked
	// it. These are cut short to prove it.
	for doc, want := range map[string]docHead{
		`{"orderId":"o","kind":"event","type":"OrderPlaced","seq":1,"data":{`: {Kind: "event", Type: "OrderPlaced", OrderID: "o"},
		`{"id":"o","orderId":"o","kind":"order","lines":[{`:                   {Kind: "order", OrderID: "o"},
	} {
		head, err := checkedHeadOf([]byte(doc))
		require.NoError(t, err, doc)
		assert.Equal(t, want, head, doc)
	}
	// An order that may have a member named type is read to the end.
	_, err := checkedHeadOf([]byte(`{"orderId":"o","kind":"order","lines":[{"type":`))
	assert.Error(t, err)
}

// FuzzDocumentHead: decodeDocuments splits a batch of one document, bare or
// wrapped in a string, as the reference decoder does, and for every document
// it accepts, checkedHeadOf gives headOf's answer.
func FuzzDocumentHead(f *testing.F) {
	for _, name := range []string{"applytax_first_attempt.json", "applytax_undecodable.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		docs, _ := decodeDocuments(envelopeDocuments(f, b))
		for _, d := range docs {
			f.Add([]byte(d))
		}
	}
	f.Add([]byte(`{"kind":"ev\u0065nt","orderId":"o","type":null}`))
	f.Add([]byte(`{"orderId":"o","kind":"order","lines":[{"sku":"a"}],"type":5}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		arr := append(append([]byte("["), doc...), ']')
		docs, err := decodeDocuments(arr)
		want, wantErr := refDecodeDocuments(arr)
		sameDecoding(t, nil, nil, want, docs, wantErr, err)
		if q, qerr := json.Marshal(string(arr)); qerr == nil && utf8.Valid(arr) { // as the host wraps it (Marshal replaces invalid UTF-8)
			inString, err := decodeDocuments(q)
			sameDecoding(t, nil, nil, docs, inString, wantErr, err)
		}
		if err != nil || len(docs) != 1 {
			return
		}
		sameHead(t, docs[0])
	})
}
