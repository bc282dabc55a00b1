package catalog

import (
	"context"
	"sync"
	"time"
)

// Source looks products up by SKU; a SKU it does not know is left out of
// the map.
type Source func(ctx context.Context, skus []string) (map[string]Product, error)

// Cache keeps the products its Source found for TTL, so that a checkout of
// SKUs priced a moment ago costs no read. A price changed in the catalog
// reaches checkouts within TTL. A SKU the source does not know is never
// kept: a product added to the catalog sells at once, and a client that
// names unknown SKUs cannot fill the cache.
type Cache struct {
	source Source
	ttl    time.Duration
	now    func() time.Time
	limit  int

	mu      sync.RWMutex
	entries map[string]entry
}

type entry struct {
	product Product
	expires time.Time
}

// DefaultCacheLimit bounds the SKUs a Cache holds; a catalog larger than
// that still works, with the cache emptied when it fills.
const DefaultCacheLimit = 100_000

// NewCache caches what source finds for ttl, measured on now (time.Now when
// nil). A ttl of 0 or less turns the cache off: every call asks source.
func NewCache(source Source, ttl time.Duration, now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	return &Cache{source: source, ttl: ttl, now: now, limit: DefaultCacheLimit, entries: map[string]entry{}}
}

// Products returns the products of skus that exist, from the cache where it
// holds them and from one call of the source for the rest.
func (c *Cache) Products(ctx context.Context, skus []string) (map[string]Product, error) {
	if c.ttl <= 0 {
		return c.source(ctx, skus)
	}
	now := c.now()
	found := make(map[string]Product, len(skus))
	var missing []string
	c.mu.RLock()
	for _, sku := range skus {
		if e, ok := c.entries[sku]; ok && now.Before(e.expires) {
			found[sku] = e.product
		} else {
			missing = append(missing, sku)
		}
	}
	c.mu.RUnlock()
	if len(missing) == 0 {
		return found, nil
	}
	fetched, err := c.source(ctx, missing)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries)+len(fetched) > c.limit {
		clear(c.entries)
	}
	expires := now.Add(c.ttl)
	for sku, p := range fetched {
		found[sku] = p
		c.entries[sku] = entry{product: p, expires: expires}
	}
	return found, nil
}
