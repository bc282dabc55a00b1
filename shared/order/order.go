package order

import "time"

// Status is where an order is in its life.
type Status string

// Placed → Taxed → Paid → Fulfilled, or Cancelled.
const (
	StatusPlaced    Status = "Placed"
	StatusTaxed     Status = "Taxed"
	StatusPaid      Status = "Paid"
	StatusFulfilled Status = "Fulfilled"
	StatusCancelled Status = "Cancelled"
)

// Terminal reports whether no further event can change the order.
func (s Status) Terminal() bool { return s == StatusFulfilled || s == StatusCancelled }

// Address is where the order ships; country and region choose the tax
// jurisdiction.
type Address struct {
	Country    string `json:"country"`
	Region     string `json:"region"`
	PostalCode string `json:"postalCode"`
}

// Line is one product on the order, priced from the catalog.
type Line struct {
	SKU         string `json:"sku"`
	Name        string `json:"name"`
	Quantity    int    `json:"quantity"`
	UnitPrice   int64  `json:"unitPrice"`
	TaxCategory string `json:"taxCategory"`
	TaxRate     string `json:"taxRate,omitempty"`
	Tax         int64  `json:"tax"`
}

// Subtotal is the line's amount before tax.
func (l Line) Subtotal() int64 { return l.UnitPrice * int64(l.Quantity) }

// Order is the current state of one order: the fold of its events.
type Order struct {
	ID             string    `json:"id"`
	OrderID        string    `json:"orderId"`
	Kind           string    `json:"kind"`
	Status         Status    `json:"status"`
	CustomerID     string    `json:"customerId"`
	Currency       string    `json:"currency"`
	Lines          []Line    `json:"lines"`
	ShipTo         Address   `json:"shipTo"`
	PaymentToken   string    `json:"paymentToken"`
	Subtotal       int64     `json:"subtotal"`
	Tax            int64     `json:"tax"`
	Total          int64     `json:"total"`
	Version        int       `json:"version"`
	LastEvent      EventType `json:"lastEvent"`
	PaymentID      string    `json:"paymentId,omitempty"`
	CorrelationID  string    `json:"correlationId"`
	IdempotencyKey string    `json:"idempotencyKey,omitempty"`
	RequestHash    string    `json:"requestHash,omitempty"`
	CreatedAt      time.Time `json:"createdAt"`
	UpdatedAt      time.Time `json:"updatedAt"`

	// ETag is the stored document's version, used for If-Match; not stored.
	ETag string `json:"-"`
}

// KindOrder and KindEvent tell the two documents of the orders container
// apart in the change feed.
const (
	KindOrder = "order"
	KindEvent = "event"
)
