package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	jsonv2 "github.com/go-json-experiment/json"

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
	if err := jsonv2.UnmarshalRead(http.MaxBytesReader(nil, r.Body, maxEnvelope), &inv); err != nil {
		return inv, nil, fmt.Errorf("decode invocation envelope: %v: %w", err, order.ErrPermanent)
	}
	docs, err := decodeDocuments(inv.Data[name])
	return inv, docs, err
}

// decodeDocuments unwraps the cosmosDBTrigger payload: the host sends the
// document array as a JSON string (sometimes a string of a string), so
// unwrap while the value is a JSON string, then split the array.
func decodeDocuments(raw json.RawMessage) ([]json.RawMessage, error) {
	for i := 0; i < 4; i++ {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || raw[0] != '"' {
			break
		}
		var s string
		if err := jsonv2.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("unwrap documents: %v: %w", err, order.ErrPermanent)
		}
		raw = json.RawMessage(s)
	}
	var docs []json.RawMessage
	if err := jsonv2.Unmarshal(raw, &docs); err != nil {
		return nil, fmt.Errorf("decode documents array: %v: %w", err, order.ErrPermanent)
	}
	return docs, nil
}
