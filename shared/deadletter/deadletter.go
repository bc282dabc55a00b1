// Package deadletter describes a change feed document that a function could
// not process. Dead letters are kept until an operator replays them; nothing
// a trigger receives is ever dropped silently.
package deadletter

import (
	"encoding/json"
	"time"
)

// DeadLetter is one unprocessed document and why.
type DeadLetter struct {
	ID           string          `json:"id"`
	Function     string          `json:"function"`
	DocumentID   string          `json:"documentId"`
	OrderID      string          `json:"orderId,omitempty"`
	Document     json.RawMessage `json:"document"`
	Error        string          `json:"error"`
	Transient    bool            `json:"transient"`
	RetryCount   int             `json:"retryCount"`
	InvocationID string          `json:"invocationId"`
	At           time.Time       `json:"at"`
}

// ID names the dead letter of document docID in function fn. One document
// dead-lettered twice by one function is one dead letter.
func ID(fn, docID string) string { return fn + "~" + docID }
