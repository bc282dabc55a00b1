// Package catalog holds what the shop sells: products with their prices and
// tax categories, and the demo catalog that the local stack seeds.
package catalog

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

// Product is one SKU for sale. Price is in minor units of Currency.
type Product struct {
	SKU         string `json:"sku"`
	Name        string `json:"name"`
	Price       int64  `json:"price"`
	Currency    string `json:"currency"`
	TaxCategory string `json:"taxCategory"`
}

// Item is a product with the stock the demo starts with.
type Item struct {
	Product
	Stock int `json:"stock"`
}

//go:embed demo.json
var demoJSON []byte

// Demo returns the demo catalog with its initial stock.
func Demo() ([]Item, error) {
	var items []Item
	if err := json.Unmarshal(demoJSON, &items); err != nil {
		return nil, fmt.Errorf("decode demo catalog: %w", err)
	}
	return items, nil
}

// Listing is a product with the stock available to sell.
type Listing struct {
	Product
	Available int `json:"available"`
}
