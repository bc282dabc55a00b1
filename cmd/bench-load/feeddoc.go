package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/ordersflow/orderpipeline/internal/feedpage"
	"github.com/ordersflow/orderpipeline/shared/order"
)

// The tracker reads every document of the orders change feed, and half of
// them are order versions it only counts. So it does not decode a
// document: it walks its top-level members, keeps the raw values of the
// few it needs and decodes an event's fields only once its kind says it is
// one.

// feedDoc is the part of an orders document the tracker reads.
type feedDoc struct {
	OrderID string
	Kind    string
	Type    order.EventType
	Seq     int
	At      time.Time
}

// readFeedDoc reads the kind of any document, and orderId, type, seq and
// at of an event.
func readFeedDoc(doc []byte) (feedDoc, error) {
	var raw struct{ orderID, kind, typ, seq, at []byte }
	err := feedpage.EachMember(doc, func(key, v []byte) {
		switch string(key) {
		case "orderId":
			raw.orderID = v
		case "kind":
			raw.kind = v
		case "type":
			raw.typ = v
		case "seq":
			raw.seq = v
		case "at":
			raw.at = v
		}
	})
	if err != nil {
		return feedDoc{}, err
	}
	var d feedDoc
	if d.Kind, err = jsonString(raw.kind); err != nil {
		return d, fmt.Errorf("kind: %w", err)
	}
	if d.Kind != order.KindEvent {
		return d, nil
	}
	return d, d.readEvent(raw.orderID, raw.typ, raw.seq, raw.at)
}

func (d *feedDoc) readEvent(orderID, typ, seq, at []byte) error {
	var err error
	if d.OrderID, err = jsonString(orderID); err != nil {
		return fmt.Errorf("orderId: %w", err)
	}
	t, err := jsonString(typ)
	if err != nil {
		return fmt.Errorf("type: %w", err)
	}
	d.Type = order.EventType(t)
	if d.Seq, err = strconv.Atoi(string(seq)); err != nil {
		return fmt.Errorf("seq: %w", err)
	}
	s, err := jsonString(at)
	if err != nil {
		return fmt.Errorf("at: %w", err)
	}
	if d.At, err = time.Parse(time.RFC3339Nano, s); err != nil {
		return fmt.Errorf("at: %w", err)
	}
	return nil
}

// jsonString decodes a JSON string value; one with no escapes is sliced.
// A missing member is "".
func jsonString(v []byte) (string, error) {
	if v == nil {
		return "", nil
	}
	if len(v) < 2 || v[0] != '"' {
		return "", fmt.Errorf("%.40q is not a string", v)
	}
	for _, c := range v[1 : len(v)-1] {
		if c == '\\' {
			var s string
			err := json.Unmarshal(v, &s)
			return s, err
		}
	}
	return string(v[1 : len(v)-1]), nil
}
