// Package tax computes sales tax, VAT and GST/HST per order line from an
// embedded table of rates (rates.json), keyed by ship-to jurisdiction and
// product tax category.
//
// Jurisdiction: US states and Canadian provinces are looked up as
// "<country>-<region>" (US-CA, CA-ON); every other country by its code (DE).
//
// Rounding rule: tax is computed per line on the line's subtotal in integer
// minor units, as subtotal × rate rounded half up (0.5 of a minor unit goes
// up), and the order's tax is the sum of its lines. Rates carry at most six
// decimals and are held as parts per million, so no floating point is used.
package tax

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/ordersflow/orderpipeline/shared/order"
)

//go:embed rates.json
var ratesJSON []byte

const ppm = 1_000_000

// Rate is a tax rate in parts per million (0.0725 = 72_500).
type Rate int64

// String renders the rate as the decimal it was written as.
func (r Rate) String() string {
	s := strconv.FormatFloat(float64(r)/ppm, 'f', -1, 64)
	return s
}

// Table holds the rates of every jurisdiction.
type Table struct {
	rates map[string]map[string]Rate
}

// Load decodes the embedded rate table.
func Load() (*Table, error) {
	var raw struct {
		Jurisdictions map[string]map[string]string `json:"jurisdictions"`
	}
	if err := json.Unmarshal(ratesJSON, &raw); err != nil {
		return nil, fmt.Errorf("decode tax rates: %w", err)
	}
	t := &Table{rates: make(map[string]map[string]Rate, len(raw.Jurisdictions))}
	for j, cats := range raw.Jurisdictions {
		t.rates[j] = make(map[string]Rate, len(cats))
		for cat, s := range cats {
			r, err := ParseRate(s)
			if err != nil {
				return nil, fmt.Errorf("tax rate %s/%s: %w", j, cat, err)
			}
			t.rates[j][cat] = r
		}
	}
	return t, nil
}

// ParseRate reads a decimal rate such as "0.0725" exactly.
func ParseRate(s string) (Rate, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if whole != "0" && whole != "1" || len(frac) > 6 || strings.Trim(frac, "0123456789") != "" {
		return 0, fmt.Errorf("rate %q must be a decimal between 0 and 1 with at most 6 decimals", s)
	}
	frac += strings.Repeat("0", 6-len(frac))
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || n > ppm {
		return 0, fmt.Errorf("rate %q must be a decimal between 0 and 1", s)
	}
	return Rate(n), nil
}

// Jurisdiction names the table entry that applies to a ship-to address, or
// returns a validation error for an address the shop doesn't ship to.
func (t *Table) Jurisdiction(a order.Address) (string, error) {
	key := a.Country
	if a.Country == "US" || a.Country == "CA" {
		key = a.Country + "-" + strings.ToUpper(a.Region)
	}
	if _, ok := t.rates[key]; !ok {
		return "", &order.ValidationError{Field: "shipTo", Unprocessable: true,
			Detail: fmt.Sprintf("we do not ship to %s (no tax jurisdiction %q)", a.Country, key)}
	}
	return key, nil
}

// Of returns the tax on amount at rate r, rounded half up.
func Of(amount int64, r Rate) int64 {
	return (amount*int64(r) + ppm/2) / ppm
}

// Compute returns the tax of every line of o and their sum.
func (t *Table) Compute(o order.Order) (order.TaxData, error) {
	j, err := t.Jurisdiction(o.ShipTo)
	if err != nil {
		return order.TaxData{}, err
	}
	d := order.TaxData{Jurisdiction: j, Lines: make([]order.LineTax, len(o.Lines))}
	for i, l := range o.Lines {
		r, ok := t.rates[j][l.TaxCategory]
		if !ok {
			return order.TaxData{}, fmt.Errorf("no %q rate in %s for %s: %w", l.TaxCategory, j, l.SKU, order.ErrPermanent)
		}
		d.Lines[i] = order.LineTax{SKU: l.SKU, Rate: r.String(), Tax: Of(l.Subtotal(), r)}
		d.Tax += d.Lines[i].Tax
	}
	d.Total = o.Subtotal + d.Tax
	return d, nil
}
