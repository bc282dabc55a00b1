package handlers

import (
	"testing"

	"github.com/ordersflow/orderpipeline/internal/storetest"
)

// The fakes keep the same contracts as cosmosstore (see its contract_test.go).

func TestMemOrdersKeepsTheContract(t *testing.T) {
	storetest.TestOrders(t, func(*testing.T) storetest.Orders { return newMemOrders() })
}

func TestMemDeadLettersKeepsTheContract(t *testing.T) {
	storetest.TestDeadLetters(t, func(*testing.T) storetest.DeadLetters { return newMemDeadLetters() })
}

func TestMemStockKeepsTheContract(t *testing.T) {
	storetest.TestStock(t, func(_ *testing.T, initial map[string]int) (storetest.Stock, func(*testing.T, string) int) {
		s := newMemStock(initial)
		return s, func(_ *testing.T, sku string) int { return s.availableOf(sku) }
	})
}
