package order

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// KindIdempotency tells an idempotency record from other documents.
const KindIdempotency = "idempotency"

// IdempotencyRecord claims one customer's Idempotency-Key for one order.
// Checkout writes it before the order, holding the order and its
// OrderPlaced event exactly as they are about to be written, so any
// request that finds the record can finish a half-written order (a crash
// between the two writes, or a duplicate that overtook the first) and
// answer with the same body as the first request.
type IdempotencyRecord struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	CustomerID  string    `json:"customerId"`
	RequestHash string    `json:"requestHash"`
	Order       Order     `json:"order"`
	Placed      Event     `json:"placed"`
	CreatedAt   time.Time `json:"createdAt"`
}

// IdempotencyRecordID names the record of key for customerID. Keys are
// scoped per customer: the same key from two customers names two records.
// The id is a digest, so it reveals neither the key nor the order id, and
// the order id is never derived from it.
func IdempotencyRecordID(customerID, key string) string {
	h := sha256.New()
	h.Write([]byte("orderpipeline/idempotency/v1"))
	for _, part := range []string{customerID, key} {
		h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(part))))
		h.Write([]byte(part))
	}
	return "idk_" + hex.EncodeToString(h.Sum(nil))
}

// NewIdempotencyRecord records that key of r's customer places o.
func NewIdempotencyRecord(key string, r PlaceRequest, o Order, placed Event) IdempotencyRecord {
	return IdempotencyRecord{ID: IdempotencyRecordID(r.CustomerID, key), Kind: KindIdempotency,
		CustomerID: r.CustomerID, RequestHash: r.Hash(), Order: o, Placed: placed, CreatedAt: placed.At}
}

// Matches reports whether r is the request the record was made for.
func (rec IdempotencyRecord) Matches(r PlaceRequest) bool {
	return rec.RequestHash == r.Hash()
}
