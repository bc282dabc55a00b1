package order

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/ordersflow/orderpipeline/shared/catalog"
)

// Limits on a checkout request.
const (
	MaxLines    = 100
	MinQuantity = 1
	MaxQuantity = 999
)

// PlaceRequest is what a shopper sends to check out. It carries no prices:
// every line is priced from the catalog.
type PlaceRequest struct {
	CustomerID string        `json:"customerId"`
	Currency   string        `json:"currency"`
	Lines      []RequestLine `json:"lines"`
	ShipTo     Address       `json:"shipTo"`
	Payment    PaymentMethod `json:"payment"`
}

// RequestLine asks for a quantity of one SKU.
type RequestLine struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// PaymentMethod is the shopper's tokenised card.
type PaymentMethod struct {
	Token string `json:"token"`
}

var (
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
	countryPattern  = regexp.MustCompile(`^[A-Z]{2}$`)
)

// Validate checks the request's shape; it knows nothing of the catalog.
func (r PlaceRequest) Validate() error {
	checks := []struct {
		bad          bool
		field, issue string
	}{
		{r.CustomerID == "", "customerId", "is required"},
		{!currencyPattern.MatchString(r.Currency), "currency", "must be an ISO 4217 code such as USD"},
		{!countryPattern.MatchString(r.ShipTo.Country), "shipTo.country", "must be an ISO 3166 alpha-2 code such as US"},
		{r.ShipTo.PostalCode == "", "shipTo.postalCode", "is required"},
		{r.Payment.Token == "", "payment.token", "is required"},
		{len(r.Lines) == 0, "lines", "must hold at least one line"},
		{len(r.Lines) > MaxLines, "lines", fmt.Sprintf("must hold at most %d lines", MaxLines)},
	}
	for _, c := range checks {
		if c.bad {
			return invalid(c.field, "%s", c.issue)
		}
	}
	if err := checkTexts(r.texts()...); err != nil {
		return err
	}
	return r.validateLines()
}

func (r PlaceRequest) validateLines() error {
	seen := make(map[string]int, len(r.Lines))
	for i, l := range r.Lines {
		field := fmt.Sprintf("lines[%d]", i)
		switch first, dup := seen[l.SKU]; {
		case l.SKU == "":
			return invalid(field+".sku", "is required")
		case dup:
			return invalid(field+".sku", "repeats lines[%d]; put the whole quantity on one line", first)
		case l.Quantity < MinQuantity || l.Quantity > MaxQuantity:
			return invalid(field+".quantity", "must be between %d and %d", MinQuantity, MaxQuantity)
		}
		seen[l.SKU] = i
	}
	return nil
}

// Hash is a stable digest of the request, used to tell a retry of the same
// request from a reuse of its Idempotency-Key.
func (r PlaceRequest) Hash() string {
	b, _ := json.Marshal(r) // a struct of strings and ints always encodes
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// NewID returns a fresh order id: 128 random bits from crypto/rand. It is
// never derived from anything a client sends, so knowing a request (or its
// Idempotency-Key) doesn't tell anyone where the order is.
func NewID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error (Go 1.24+)
	return "ord_" + hex.EncodeToString(b)
}

// IDForKey is a stable digest of key in the shape of an order id. It names
// no order (order ids are random, see NewID); the triggers use it to name
// the dead letter of a document that can't be decoded.
func IDForKey(key string) string {
	sum := sha256.Sum256([]byte("idempotency-key:" + key))
	return "ord_" + hex.EncodeToString(sum[:12])
}

// Placement is everything besides the request that a new order needs.
type Placement struct {
	ID             string
	CorrelationID  string
	IdempotencyKey string
	At             time.Time
}

// Place prices a validated request from the catalog and returns the new
// order with its OrderPlaced event. products holds the catalog entries for
// the request's SKUs; a missing one is an unknown SKU.
func Place(r PlaceRequest, products map[string]catalog.Product, p Placement) (Order, Event, error) {
	lines := make([]Line, len(r.Lines))
	var subtotal int64
	for i, rl := range r.Lines {
		prod, ok := products[rl.SKU]
		if !ok {
			return Order{}, Event{}, unprocessable(fmt.Sprintf("lines[%d].sku", i), "unknown SKU %s", Excerpt(rl.SKU))
		}
		if prod.Currency != r.Currency {
			return Order{}, Event{}, unprocessable("currency",
				"%s is priced in %s, not %s", prod.SKU, prod.Currency, r.Currency)
		}
		lines[i] = Line{SKU: prod.SKU, Name: prod.Name, Quantity: rl.Quantity, UnitPrice: prod.Price, TaxCategory: prod.TaxCategory}
		subtotal += lines[i].Subtotal()
	}
	o := Order{ID: p.ID, CorrelationID: p.CorrelationID, PaymentToken: r.Payment.Token,
		IdempotencyKey: p.IdempotencyKey, RequestHash: r.Hash()}
	data := PlacedData{CustomerID: r.CustomerID, Currency: r.Currency, Lines: lines, ShipTo: r.ShipTo, Subtotal: subtotal}
	ev, err := o.Record(OrderPlaced, data, p.At)
	return o, ev, err
}
