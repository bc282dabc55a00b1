package order

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStringLimitsCountCharacters: every string field has a limit in
// characters (runes), so 100 × "é" (200 bytes) is a valid customer id and
// a 60,000-character postal code or token is not.
func TestStringLimitsCountCharacters(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*PlaceRequest, string)
		field string
		max   int
	}{
		{"customerId", func(r *PlaceRequest, s string) { r.CustomerID = s }, "customerId", MaxCustomerID},
		{"region", func(r *PlaceRequest, s string) { r.ShipTo.Region = s }, "shipTo.region", MaxRegion},
		{"postalCode", func(r *PlaceRequest, s string) { r.ShipTo.PostalCode = s }, "shipTo.postalCode", MaxPostalCode},
		{"token", func(r *PlaceRequest, s string) { r.Payment.Token = s }, "payment.token", MaxPaymentToken},
		{"sku", func(r *PlaceRequest, s string) { r.Lines[1].SKU = s }, "lines[1].sku", MaxSKU},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := validRequest()
			tc.edit(&r, strings.Repeat("é", tc.max))
			require.NoError(t, r.Validate(), "%d two-byte characters are within the limit", tc.max)
			tc.edit(&r, strings.Repeat("é", tc.max+1))
			assertInvalid(t, r.Validate(), tc.field, "at most")
			tc.edit(&r, strings.Repeat("x", 60000))
			err := r.Validate()
			assertInvalid(t, err, tc.field, "at most")
			assert.Less(t, len(err.Error()), 200, "the detail never quotes the value")
		})
	}
}

func TestStringsRejectControlAndBidiCharacters(t *testing.T) {
	bad := map[string]string{
		"NUL": "a\x00b", "ESC": "a\x1b[31m", "CR": "a\rb", "LF": "a\nb", "TAB": "a\tb", "DEL": "a\x7fb", "C1 NEL": "a\u0085b",
		"LRE": "a\u202ab", "RLE": "a\u202bb", "PDF": "a\u202cb", "LRO": "a\u202db", "RLO": "a\u202eb",
		"LRI": "a\u2066b", "RLI": "a\u2067b", "FSI": "a\u2068b", "PDI": "a\u2069b",
		"invalid UTF-8": "a\xffb", "surrogate half": "a\xed\xa0\x80b",
	}
	for name, s := range bad {
		t.Run(name, func(t *testing.T) {
			r := validRequest()
			r.CustomerID = s
			assertInvalid(t, r.Validate(), "customerId", "")
			r = validRequest()
			r.Lines[0].SKU = s
			assertInvalid(t, r.Validate(), "lines[0].sku", "")
		})
	}
	r := validRequest()
	r.CustomerID = "Zoë 東京 \u200fשלום" // letters of any script, and a plain RLM mark, are fine
	assert.NoError(t, r.Validate())
}

func TestCheckTextSaysWhereWithoutEchoing(t *testing.T) {
	err := CheckText("customerId", "abc\u202eevil", 10)
	assertInvalid(t, err, "customerId", "U+202E at character 4")
	assert.NotContains(t, err.Error(), "evil")
}

func TestExcerptIsShort(t *testing.T) {
	assert.Equal(t, `"MUG"`, Excerpt("MUG"))
	long := Excerpt(strings.Repeat("é", 1000))
	assert.True(t, utf8.ValidString(long))
	assert.LessOrEqual(t, utf8.RuneCountInString(long), excerptRunes+3)
	assert.True(t, strings.HasSuffix(long, `"…`))
	assert.Equal(t, `"a\x1bb"`, Excerpt("a\x1bb"), "control characters are escaped, never raw")
}

func assertInvalid(t *testing.T, err error, field, detail string) {
	t.Helper()
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, field, ve.Field)
	assert.False(t, ve.Unprocessable)
	assert.Contains(t, ve.Detail, detail)
}
