package catalog

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// source is a catalog in memory that records what it was asked for.
type source struct {
	products map[string]Product
	asked    [][]string
	err      error
}

func (s *source) lookup(_ context.Context, skus []string) (map[string]Product, error) {
	s.asked = append(s.asked, slices.Clone(skus))
	if s.err != nil {
		return nil, s.err
	}
	out := map[string]Product{}
	for _, sku := range skus {
		if p, ok := s.products[sku]; ok {
			out[sku] = p
		}
	}
	return out, nil
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestCache(ttl time.Duration) (*Cache, *source, *clock) {
	src := &source{products: map[string]Product{
		"MUG": {SKU: "MUG", Price: 1200, Currency: "EUR"},
		"TEE": {SKU: "TEE", Price: 2500, Currency: "EUR"},
	}}
	clk := &clock{t: time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)}
	return NewCache(src.lookup, ttl, clk.now), src, clk
}

func TestCacheAsksOnlyForWhatItDoesNotHold(t *testing.T) {
	c, src, _ := newTestCache(10 * time.Second)
	ctx := context.Background()
	if _, err := c.Products(ctx, []string{"MUG"}); err != nil {
		t.Fatal(err)
	}
	got, err := c.Products(ctx, []string{"MUG", "TEE"})
	if err != nil {
		t.Fatal(err)
	}
	if got["MUG"].Price != 1200 || got["TEE"].Price != 2500 || len(got) != 2 {
		t.Fatalf("products = %v", got)
	}
	if _, err := c.Products(ctx, []string{"TEE", "MUG"}); err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"MUG"}, {"TEE"}}
	if !slices.EqualFunc(src.asked, want, slices.Equal) {
		t.Fatalf("source asked %v, want %v", src.asked, want)
	}
}

func TestCacheSeesAPriceChangeAfterTTL(t *testing.T) {
	c, src, clk := newTestCache(10 * time.Second)
	ctx := context.Background()
	if _, err := c.Products(ctx, []string{"MUG"}); err != nil {
		t.Fatal(err)
	}
	src.products["MUG"] = Product{SKU: "MUG", Price: 1500, Currency: "EUR"}
	clk.t = clk.t.Add(10*time.Second - time.Nanosecond)
	if got, _ := c.Products(ctx, []string{"MUG"}); got["MUG"].Price != 1200 {
		t.Fatalf("within the TTL: price %d, want the cached 1200", got["MUG"].Price)
	}
	clk.t = clk.t.Add(time.Nanosecond)
	if got, _ := c.Products(ctx, []string{"MUG"}); got["MUG"].Price != 1500 {
		t.Fatalf("at the TTL: price %d, want the new 1500", got["MUG"].Price)
	}
}

func TestCacheNeverKeepsAnUnknownSKU(t *testing.T) {
	c, src, _ := newTestCache(time.Minute)
	ctx := context.Background()
	for range 2 {
		got, err := c.Products(ctx, []string{"NEW"})
		if err != nil || len(got) != 0 {
			t.Fatalf("unknown SKU: %v, %v", got, err)
		}
	}
	src.products["NEW"] = Product{SKU: "NEW", Price: 100, Currency: "EUR"}
	if got, _ := c.Products(ctx, []string{"NEW"}); got["NEW"].Price != 100 {
		t.Fatalf("a product added to the catalog is not sold at once: %v", got)
	}
	if len(src.asked) != 3 {
		t.Fatalf("source asked %d times, want 3 (an unknown SKU is asked every time)", len(src.asked))
	}
}

func TestCacheOffAsksEveryTime(t *testing.T) {
	c, src, _ := newTestCache(0)
	for range 3 {
		if _, err := c.Products(context.Background(), []string{"MUG"}); err != nil {
			t.Fatal(err)
		}
	}
	if len(src.asked) != 3 {
		t.Fatalf("source asked %d times, want 3", len(src.asked))
	}
}

func TestCacheKeepsNothingFromAFailedLookup(t *testing.T) {
	c, src, _ := newTestCache(time.Minute)
	ctx := context.Background()
	boom := errors.New("unavailable")
	src.err = boom
	if _, err := c.Products(ctx, []string{"MUG"}); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the source's", err)
	}
	src.err = nil
	if got, err := c.Products(ctx, []string{"MUG"}); err != nil || got["MUG"].Price != 1200 {
		t.Fatalf("after the failure: %v, %v", got, err)
	}
}

func TestCacheStaysWithinItsLimit(t *testing.T) {
	c, _, _ := newTestCache(time.Minute)
	c.limit = 1
	ctx := context.Background()
	for _, sku := range []string{"MUG", "TEE", "MUG"} {
		if _, err := c.Products(ctx, []string{sku}); err != nil {
			t.Fatal(err)
		}
		if n := len(c.entries); n > c.limit {
			t.Fatalf("after %s the cache holds %d SKUs, limit %d", sku, n, c.limit)
		}
	}
}
