package order

import (
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Limits, in characters (runes, not bytes), on the strings of a checkout
// request. Every string a shopper sends is stored on the order, so each has
// a limit fit for what it holds.
const (
	MaxCustomerID   = 128
	MaxSKU          = 64
	MaxRegion       = 64
	MaxPostalCode   = 16
	MaxPaymentToken = 256
)

// CheckText reports why s can't be stored as the request string field: it
// is invalid UTF-8, longer than max characters, or holds a control
// character (C0, DEL, C1: NUL, ESC, CR, LF, tab…) or a bidirectional
// embedding, override or isolate (U+202A–U+202E, U+2066–U+2069), which
// can make a stored value display as something else. The error says where
// the character is and never quotes the value.
func CheckText(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return invalid(field, "is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return invalid(field, "must be at most %d characters, not %d", max, n)
	}
	i := 0
	for _, r := range s {
		i++
		switch {
		case unicode.IsControl(r):
			return invalid(field, "must not contain control characters (U+%04X at character %d)", r, i)
		case isBidiControl(r):
			return invalid(field, "must not contain bidirectional overrides (U+%04X at character %d)", r, i)
		}
	}
	return nil
}

func isBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

// excerptRunes is how much of a value a problem detail may quote.
const excerptRunes = 32

// Excerpt quotes at most the first 32 characters of s for an error
// message, with control characters escaped and "…" when s is longer.
func Excerpt(s string) string {
	n := 0
	for i := range s {
		if n == excerptRunes {
			return strconv.Quote(s[:i]) + "…"
		}
		n++
	}
	return strconv.Quote(s)
}

// textField is one string of a request and its limit.
type textField struct {
	field, value string
	max          int
}

// checkTexts checks every field in order and returns the first problem.
func checkTexts(fields ...textField) error {
	for _, f := range fields {
		if err := CheckText(f.field, f.value, f.max); err != nil {
			return err
		}
	}
	return nil
}

// texts lists every free-form string of the request with its limit
// (currency and country are held to their ISO patterns instead).
func (r PlaceRequest) texts() []textField {
	fs := []textField{
		{"customerId", r.CustomerID, MaxCustomerID},
		{"shipTo.region", r.ShipTo.Region, MaxRegion},
		{"shipTo.postalCode", r.ShipTo.PostalCode, MaxPostalCode},
		{"payment.token", r.Payment.Token, MaxPaymentToken},
	}
	for i, l := range r.Lines {
		fs = append(fs, textField{fmt.Sprintf("lines[%d].sku", i), l.SKU, MaxSKU})
	}
	return fs
}
