package handlers

import (
	"encoding/json"
	"time"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// orderView is an order as the API shows it. It is built only from state
// that the events determine, so replaying a checkout renders the same body.
type orderView struct {
	ID            string        `json:"id"`
	Status        order.Status  `json:"status"`
	CustomerID    string        `json:"customerId"`
	Currency      string        `json:"currency"`
	Lines         []lineView    `json:"lines"`
	ShipTo        order.Address `json:"shipTo"`
	Subtotal      int64         `json:"subtotal"`
	Tax           int64         `json:"tax"`
	Total         int64         `json:"total"`
	Version       int           `json:"version"`
	CorrelationID string        `json:"correlationId"`
	CreatedAt     time.Time     `json:"createdAt"`
	UpdatedAt     time.Time     `json:"updatedAt"`
	Events        []eventView   `json:"events,omitempty"`
}

type lineView struct {
	SKU          string `json:"sku"`
	Name         string `json:"name"`
	Quantity     int    `json:"quantity"`
	UnitPrice    int64  `json:"unitPrice"`
	TaxCategory  string `json:"taxCategory"`
	TaxRate      string `json:"taxRate,omitempty"`
	LineSubtotal int64  `json:"lineSubtotal"`
	Tax          int64  `json:"tax"`
	LineTotal    int64  `json:"lineTotal"`
}

type eventView struct {
	ID   string          `json:"id"`
	Seq  int             `json:"seq"`
	Type order.EventType `json:"type"`
	At   time.Time       `json:"at"`
	Data json.RawMessage `json:"data"`
}

func viewOf(o order.Order) orderView {
	v := orderView{ID: o.ID, Status: o.Status, CustomerID: o.CustomerID, Currency: o.Currency,
		Lines: make([]lineView, len(o.Lines)), ShipTo: o.ShipTo, Subtotal: o.Subtotal, Tax: o.Tax,
		Total: o.Total, Version: o.Version, CorrelationID: o.CorrelationID, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
	for i, l := range o.Lines {
		v.Lines[i] = lineView{SKU: l.SKU, Name: l.Name, Quantity: l.Quantity, UnitPrice: l.UnitPrice,
			TaxCategory: l.TaxCategory, TaxRate: l.TaxRate, LineSubtotal: l.Subtotal(), Tax: l.Tax, LineTotal: l.Subtotal() + l.Tax}
	}
	return v
}

func eventViews(events []order.Event) []eventView {
	out := make([]eventView, len(events))
	for i, e := range events {
		out[i] = eventView{ID: e.ID, Seq: e.Seq, Type: e.Type, At: e.At, Data: e.Data}
	}
	return out
}
