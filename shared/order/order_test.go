package order

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/shared/catalog"
)

var at = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func products() map[string]catalog.Product {
	return map[string]catalog.Product{
		"MUG":  {SKU: "MUG", Name: "Mug", Price: 1250, Currency: "USD", TaxCategory: "standard"},
		"BOOK": {SKU: "BOOK", Name: "Book", Price: 3999, Currency: "USD", TaxCategory: "reduced"},
	}
}

func validRequest() PlaceRequest {
	return PlaceRequest{CustomerID: "c-1", Currency: "USD",
		Lines:   []RequestLine{{SKU: "MUG", Quantity: 2}, {SKU: "BOOK", Quantity: 1}},
		ShipTo:  Address{Country: "US", Region: "CA", PostalCode: "94103"},
		Payment: PaymentMethod{Token: "tok_visa"}}
}

func placed(t *testing.T) Order {
	t.Helper()
	o, _, err := Place(validRequest(), products(), Placement{ID: "ord_1", CorrelationID: "corr", At: at})
	require.NoError(t, err)
	return o
}

func TestPlacePricesFromCatalog(t *testing.T) {
	o, ev, err := Place(validRequest(), products(), Placement{ID: "ord_1", CorrelationID: "corr", At: at})
	require.NoError(t, err)
	assert.Equal(t, StatusPlaced, o.Status)
	assert.Equal(t, int64(2*1250+3999), o.Subtotal)
	assert.Equal(t, o.Subtotal, o.Total)
	assert.Equal(t, "Mug", o.Lines[0].Name)
	assert.Equal(t, "ord_1:OrderPlaced", ev.ID)
	assert.Equal(t, 1, ev.Seq)
	assert.Equal(t, "corr", ev.CorrelationID)
	assert.Equal(t, validRequest().Hash(), o.RequestHash)
	assert.Equal(t, 1, o.Version)
}

func TestPlaceRejectsWhatTheCatalogDoesNot(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*PlaceRequest)
		field string
	}{
		{"unknown sku", func(r *PlaceRequest) { r.Lines[1].SKU = "NOPE" }, "lines[1].sku"},
		{"currency mismatch", func(r *PlaceRequest) { r.Currency = "EUR" }, "currency"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := validRequest()
			tc.edit(&r)
			_, _, err := Place(r, products(), Placement{ID: "ord_1", At: at})
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field)
			assert.True(t, ve.Unprocessable)
		})
	}
}

func TestValidate(t *testing.T) {
	many := make([]RequestLine, MaxLines+1)
	for i := range many {
		many[i] = RequestLine{SKU: string(rune('A'+i%26)) + string(rune('a'+i/26)), Quantity: 1}
	}
	cases := []struct {
		name  string
		edit  func(*PlaceRequest)
		field string
	}{
		{"missing customer", func(r *PlaceRequest) { r.CustomerID = "" }, "customerId"},
		{"bad currency", func(r *PlaceRequest) { r.Currency = "usd" }, "currency"},
		{"bad country", func(r *PlaceRequest) { r.ShipTo.Country = "USA" }, "shipTo.country"},
		{"missing postal code", func(r *PlaceRequest) { r.ShipTo.PostalCode = "" }, "shipTo.postalCode"},
		{"missing token", func(r *PlaceRequest) { r.Payment.Token = "" }, "payment.token"},
		{"no lines", func(r *PlaceRequest) { r.Lines = nil }, "lines"},
		{"too many lines", func(r *PlaceRequest) { r.Lines = many }, "lines"},
		{"quantity zero", func(r *PlaceRequest) { r.Lines[0].Quantity = 0 }, "lines[0].quantity"},
		{"quantity 1000", func(r *PlaceRequest) { r.Lines[1].Quantity = 1000 }, "lines[1].quantity"},
		{"missing sku", func(r *PlaceRequest) { r.Lines[0].SKU = "" }, "lines[0].sku"},
		{"duplicate sku", func(r *PlaceRequest) { r.Lines[1].SKU = "MUG" }, "lines[1].sku"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := validRequest()
			tc.edit(&r)
			var ve *ValidationError
			require.ErrorAs(t, r.Validate(), &ve)
			assert.Equal(t, tc.field, ve.Field)
			assert.False(t, ve.Unprocessable)
		})
	}
	assert.NoError(t, validRequest().Validate())
}

func TestQuantityBoundsAreInclusive(t *testing.T) {
	r := validRequest()
	r.Lines[0].Quantity, r.Lines[1].Quantity = MinQuantity, MaxQuantity
	assert.NoError(t, r.Validate())
}

// TestSaga walks every branch of the saga and checks each status.
func TestSaga(t *testing.T) {
	tax := TaxData{Jurisdiction: "US-CA", Lines: []LineTax{{SKU: "MUG", Rate: "0.0725", Tax: 181}, {SKU: "BOOK", Rate: "0", Tax: 0}}, Tax: 181}
	pay := PaymentData{PaymentID: "pay_1", Amount: 6680, Currency: "USD"}
	reason := ReasonData{Reason: "r"}
	type step struct {
		t    EventType
		data any
		want Status
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"fulfilled", []step{{TaxApplied, tax, StatusTaxed}, {PaymentCaptured, pay, StatusPaid}, {OrderFulfilled, FulfilledData{}, StatusFulfilled}}},
		{"declined", []step{{TaxApplied, tax, StatusTaxed}, {PaymentDeclined, reason, StatusTaxed}, {OrderCancelled, reason, StatusCancelled}}},
		{"refunded", []step{{TaxApplied, tax, StatusTaxed}, {PaymentCaptured, pay, StatusPaid}, {FulfilmentFailed, reason, StatusPaid},
			{PaymentRefunded, pay, StatusPaid}, {OrderCancelled, reason, StatusCancelled}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := placed(t)
			for i, s := range tc.steps {
				ev, err := o.Record(s.t, s.data, at.Add(time.Duration(i+1)*time.Second))
				require.NoError(t, err, s.t)
				assert.Equal(t, i+2, ev.Seq)
				assert.Equal(t, s.want, o.Status, s.t)
			}
			assert.True(t, o.Status.Terminal())
		})
	}
}

// TestRecordFoldsWhatApplyDecodes: Record folds its payload into the
// order as it is; a replica that applies the stored event (its data as
// JSON) must end in the same state.
func TestRecordFoldsWhatApplyDecodes(t *testing.T) {
	steps := []struct {
		t    EventType
		data any
	}{
		{TaxApplied, TaxData{Jurisdiction: "US-CA", Lines: []LineTax{{SKU: "MUG", Rate: "0.0725", Tax: 181}, {SKU: "BOOK", Rate: "0", Tax: 0}}, Tax: 181}},
		{PaymentCaptured, PaymentData{PaymentID: "pay_1", Amount: 6680, Currency: "USD"}},
		{OrderFulfilled, FulfilledData{Reservations: []Reservation{{SKU: "MUG", Quantity: 2}}}},
	}
	recorded, placedEv, err := Place(validRequest(), products(), Placement{ID: "ord_1", CorrelationID: "corr", At: at})
	require.NoError(t, err)
	replica := Order{ID: recorded.ID, CorrelationID: recorded.CorrelationID, PaymentToken: recorded.PaymentToken, RequestHash: recorded.RequestHash}
	require.NoError(t, replica.Apply(placedEv))
	assert.Equal(t, recorded, replica, "OrderPlaced")
	for i, s := range steps {
		ev, err := recorded.Record(s.t, s.data, at.Add(time.Duration(i+1)*time.Second))
		require.NoError(t, err)
		require.NoError(t, replica.Apply(ev))
		assert.Equal(t, recorded, replica, s.t)
	}
	assert.Equal(t, StatusFulfilled, replica.Status)
	assert.Equal(t, "pay_1", replica.PaymentID)
}

func TestTaxAppliedSetsLineTaxAndTotal(t *testing.T) {
	o := placed(t)
	_, err := o.Record(TaxApplied, TaxData{Lines: []LineTax{{SKU: "MUG", Rate: "0.0725", Tax: 181}, {SKU: "BOOK", Rate: "0", Tax: 0}}, Tax: 181}, at)
	require.NoError(t, err)
	assert.Equal(t, int64(181), o.Lines[0].Tax)
	assert.Equal(t, "0.0725", o.Lines[0].TaxRate)
	assert.Equal(t, o.Subtotal+181, o.Total)
}

func TestInvalidTransitionsLeaveTheOrderAlone(t *testing.T) {
	cases := []EventType{OrderPlaced, PaymentCaptured, OrderFulfilled, PaymentRefunded, OrderCancelled, FulfilmentFailed}
	for _, next := range cases {
		t.Run(string(next), func(t *testing.T) {
			o := placed(t)
			before := o
			_, err := o.Record(next, ReasonData{}, at)
			assert.ErrorIs(t, err, ErrInvalidTransition)
			assert.Equal(t, before, o)
		})
	}
}

func TestApplyRefusesOutOfSequence(t *testing.T) {
	o := placed(t)
	err := o.Apply(Event{ID: "x", OrderID: o.ID, Seq: 5, Type: TaxApplied, Data: []byte(`{"lines":[{},{}]}`)})
	assert.ErrorIs(t, err, ErrInvalidTransition)
}

func TestHandled(t *testing.T) {
	o := placed(t)
	placedEv := Event{Seq: 1, Type: OrderPlaced}
	assert.False(t, o.Handled(placedEv))
	_, err := o.Record(TaxApplied, TaxData{Lines: make([]LineTax, 2)}, at)
	require.NoError(t, err)
	assert.True(t, o.Handled(placedEv))
}

func TestIdempotencyIDsAreStable(t *testing.T) {
	assert.Equal(t, IDForKey("k1"), IDForKey("k1"))
	assert.NotEqual(t, IDForKey("k1"), IDForKey("k2"))
	assert.Regexp(t, `^ord_[0-9a-f]{24}$`, IDForKey("k1"))
}

func TestOrderIDsAreRandom128Bits(t *testing.T) {
	assert.Regexp(t, `^ord_[0-9a-f]{32}$`, NewID(), "16 random bytes")
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		require.False(t, seen[id])
		seen[id] = true
	}
}

func TestIdempotencyRecordsAreScopedPerCustomer(t *testing.T) {
	id := IdempotencyRecordID("c-1", "k")
	assert.Regexp(t, `^idk_[0-9a-f]{64}$`, id)
	assert.Equal(t, id, IdempotencyRecordID("c-1", "k"), "stable")
	assert.NotEqual(t, id, IdempotencyRecordID("c-2", "k"), "another customer, another record")
	assert.NotEqual(t, IdempotencyRecordID("c-1k", ""), IdempotencyRecordID("c-1", "k"), "parts can't run into each other")
	o, ev, err := Place(validRequest(), products(), Placement{ID: NewID(), At: at})
	require.NoError(t, err)
	rec := NewIdempotencyRecord("k", validRequest(), o, ev)
	assert.Equal(t, IdempotencyRecordID("c-1", "k"), rec.ID)
	assert.True(t, rec.Matches(validRequest()))
	other := validRequest()
	other.Lines[0].Quantity++
	assert.False(t, rec.Matches(other))
}

func TestHashTellsRequestsApart(t *testing.T) {
	a, b := validRequest(), validRequest()
	assert.Equal(t, a.Hash(), b.Hash())
	b.Lines[0].Quantity = 3
	assert.NotEqual(t, a.Hash(), b.Hash())
}

// BenchmarkSaga is a checkout's Place and the stages' Records of one order.
func BenchmarkSaga(b *testing.B) {
	tax := TaxData{Jurisdiction: "US-CA", Lines: []LineTax{{SKU: "MUG", Rate: "0.0725", Tax: 181}, {SKU: "BOOK", Rate: "0", Tax: 0}}, Tax: 181}
	pay := PaymentData{PaymentID: "pay_1", Amount: 6680, Currency: "USD"}
	b.ReportAllocs()
	for b.Loop() {
		o, _, err := Place(validRequest(), products(), Placement{ID: "ord_1", CorrelationID: "corr", At: at})
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range []struct {
			t    EventType
			data any
		}{{TaxApplied, tax}, {PaymentCaptured, pay}, {OrderFulfilled, FulfilledData{}}} {
			if _, err := o.Record(e.t, e.data, at); err != nil {
				b.Fatal(err)
			}
		}
	}
}
