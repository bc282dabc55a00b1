package tax

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/shared/order"
)

func table(t *testing.T) *Table {
	t.Helper()
	tb, err := Load()
	require.NoError(t, err)
	return tb
}

func TestRoundingIsHalfUpPerLine(t *testing.T) {
	cases := []struct {
		name   string
		amount int64
		rate   string
		want   int64
	}{
		{"exact", 10000, "0.0725", 725},
		{"half rounds up", 10, "0.05", 1},         // 0.5 → 1
		{"below half rounds down", 9, "0.05", 0},  // 0.45 → 0
		{"above half rounds up", 11, "0.05", 1},   // 0.55 → 1
		{"nj six decimals", 1999, "0.06625", 132}, // 132.43375 → 132
		{"zero rate", 123456, "0", 0},
		{"full rate", 500, "1", 500},
		{"large amount", 99_999_999_900, "0.19", 18_999_999_981},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseRate(tc.rate)
			require.NoError(t, err)
			assert.Equal(t, tc.want, Of(tc.amount, r))
		})
	}
}

func TestParseRateRejectsNonsense(t *testing.T) {
	for _, s := range []string{"", "7.25", "0.1234567", "-0.1", "0.1a", "1.5", "abc"} {
		_, err := ParseRate(s)
		assert.Error(t, err, s)
	}
}

func TestTableCoversTheRequiredJurisdictions(t *testing.T) {
	tb := table(t)
	us := 0
	for j := range tb.rates {
		if len(j) > 3 && j[:3] == "US-" {
			us++
		}
	}
	assert.GreaterOrEqual(t, us, 12)
	cases := []struct {
		j, cat string
		want   Rate
	}{
		{"US-OR", "standard", 0}, // no sales tax
		{"US-CA", "standard", 72_500},
		{"DE", "standard", 190_000},
		{"DE", "reduced", 70_000},
		{"FR", "reduced", 55_000},
		{"IE", "reduced", 135_000},
		{"CA-ON", "standard", 130_000}, // HST
		{"CA-AB", "standard", 50_000},  // GST
		{"NL", "exempt", 0},
	}
	for _, tc := range cases {
		t.Run(tc.j+"/"+tc.cat, func(t *testing.T) {
			r, ok := tb.rates[tc.j][tc.cat]
			require.True(t, ok)
			assert.Equal(t, tc.want, r)
		})
	}
}

func TestCompute(t *testing.T) {
	o := order.Order{Subtotal: 2*2400 + 3999 + 2500, ShipTo: order.Address{Country: "DE", PostalCode: "10115"}, Lines: []order.Line{
		{SKU: "TEE", Quantity: 2, UnitPrice: 2400, TaxCategory: "standard"},
		{SKU: "BOOK", Quantity: 1, UnitPrice: 3999, TaxCategory: "reduced"},
		{SKU: "GIFT", Quantity: 1, UnitPrice: 2500, TaxCategory: "exempt"},
	}}
	d, err := table(t).Compute(o)
	require.NoError(t, err)
	assert.Equal(t, "DE", d.Jurisdiction)
	assert.Equal(t, []order.LineTax{{SKU: "TEE", Rate: "0.19", Tax: 912}, {SKU: "BOOK", Rate: "0.07", Tax: 280}, {SKU: "GIFT", Rate: "0", Tax: 0}}, d.Lines)
	assert.Equal(t, int64(912+280), d.Tax)
	assert.Equal(t, o.Subtotal+d.Tax, d.Total)
}

func TestJurisdiction(t *testing.T) {
	tb := table(t)
	j, err := tb.Jurisdiction(order.Address{Country: "US", Region: "ny"})
	require.NoError(t, err)
	assert.Equal(t, "US-NY", j)
	_, err = tb.Jurisdiction(order.Address{Country: "US", Region: "ZZ"})
	var ve *order.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "shipTo", ve.Field)
	assert.True(t, ve.Unprocessable)
	_, err = tb.Jurisdiction(order.Address{Country: "JP"})
	assert.Error(t, err)
}

func TestUnknownCategoryIsPermanent(t *testing.T) {
	o := order.Order{ShipTo: order.Address{Country: "FR"}, Lines: []order.Line{{SKU: "X", Quantity: 1, UnitPrice: 1, TaxCategory: "luxury"}}}
	_, err := table(t).Compute(o)
	assert.ErrorIs(t, err, order.ErrPermanent)
}
