package cosmosstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"github.com/ordersflow/orderpipeline/shared/catalog"
	"github.com/ordersflow/orderpipeline/shared/order"
)

// productDoc is a catalog document: one per SKU, partitioned by /sku.
type productDoc struct {
	ID string `json:"id"`
	catalog.Product
}

// Products returns the catalog entries of the given SKUs; unknown SKUs are
// simply absent from the map. It point-reads them (ReadManyItems: about 1 RU
// an item, each partition key range asked once) rather than querying across
// partitions. A single SKU of plain characters is one ReadItem instead:
// azcosmos runs ReadManyItems as a query on worker goroutines, which cost
// the handler about twice a point read (a third of checkouts are of one
// SKU). Any other id stays a query parameter rather than part of a URL.
func (s *Store) Products(ctx context.Context, skus []string) (map[string]catalog.Product, error) {
	if len(skus) == 1 && plainID(skus[0]) {
		return s.product(ctx, skus[0])
	}
	ids := make([]azcosmos.ItemIdentity, len(skus))
	for i, sku := range skus {
		ids[i] = azcosmos.ItemIdentity{ID: sku, PartitionKey: pk(sku)}
	}
	rctx, cancel := s.withDeadline(ctx)
	defer cancel()
	resp, err := s.catalog.ReadManyItems(rctx, ids, nil)
	s.charged(ctx, "read_products", resp.RequestCharge, err)
	if err != nil {
		return nil, fmt.Errorf("look up %d products: %w", len(skus), translate(err))
	}
	out := make(map[string]catalog.Product, len(skus))
	for _, raw := range resp.Items {
		var d productDoc
		if err := json.Unmarshal(raw, &d); err != nil {
			return nil, fmt.Errorf("decode product: %v: %w", err, order.ErrPermanent)
		}
		out[d.SKU] = d.Product
	}
	return out, nil
}

// product is Products of one SKU.
func (s *Store) product(ctx context.Context, sku string) (map[string]catalog.Product, error) {
	var d productDoc
	_, err := s.read(ctx, s.catalog, "read_products", sku, sku, &d)
	switch {
	case errors.Is(err, order.ErrNotFound):
		return map[string]catalog.Product{}, nil
	case err != nil:
		return nil, fmt.Errorf("look up 1 product: %w", err)
	}
	return map[string]catalog.Product{d.SKU: d.Product}, nil
}

// plainID reports whether id is letters, digits, '-' and '_' only, so that
// it means the same in a URL path as in a query.
func plainID(id string) bool {
	return id != "" && !strings.ContainsFunc(id, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_')
	})
}

// Catalog lists every product with its available stock, by SKU.
func (s *Store) Catalog(ctx context.Context) ([]catalog.Listing, error) {
	stock, err := s.allStock(ctx)
	if err != nil {
		return nil, err
	}
	var out []catalog.Listing
	err = s.query(ctx, s.catalog, "query_catalog", azcosmos.NewPartitionKey(), "SELECT * FROM c", nil, func(raw []byte) error {
		var d productDoc
		if err := json.Unmarshal(raw, &d); err != nil {
			return fmt.Errorf("decode product: %v: %w", err, order.ErrPermanent)
		}
		out = append(out, catalog.Listing{Product: d.Product, Available: stock[d.SKU]})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list catalog: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SKU < out[j].SKU })
	return out, nil
}

func (s *Store) allStock(ctx context.Context) (map[string]int, error) {
	stock := map[string]int{}
	q := "SELECT * FROM c WHERE c.kind = @kind"
	params := []azcosmos.QueryParameter{{Name: "@kind", Value: kindStock}}
	err := s.query(ctx, s.inventory, "query_stock", azcosmos.NewPartitionKey(), q, params, func(raw []byte) error {
		var d stockDoc
		if err := json.Unmarshal(raw, &d); err != nil {
			return fmt.Errorf("decode stock: %v: %w", err, order.ErrPermanent)
		}
		stock[d.SKU] = d.Available
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list stock: %w", err)
	}
	return stock, nil
}

// Seed writes every catalog item and its initial stock, leaving documents
// that exist untouched: running it again keeps the data.
func (s *Store) Seed(ctx context.Context, items []catalog.Item) error {
	for _, it := range items {
		if err := s.createIfAbsent(ctx, s.catalog, it.SKU, productDoc{ID: it.SKU, Product: it.Product}); err != nil {
			return fmt.Errorf("seed product %s: %w", it.SKU, err)
		}
		stock := stockDoc{ID: it.SKU, SKU: it.SKU, Kind: kindStock, Available: it.Stock}
		if err := s.createIfAbsent(ctx, s.inventory, it.SKU, stock); err != nil {
			return fmt.Errorf("seed stock %s: %w", it.SKU, err)
		}
	}
	return nil
}

func (s *Store) createIfAbsent(ctx context.Context, c *azcosmos.ContainerClient, pkValue string, doc any) error {
	raw, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	ctx, cancel := s.withDeadline(ctx)
	defer cancel()
	resp, err := c.CreateItem(ctx, pk(pkValue), raw, nil)
	s.charged(ctx, "seed", resp.RequestCharge, err)
	if err = translate(err); errors.Is(err, order.ErrConflict) {
		return nil
	}
	return err
}
