package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
)

// readFaults reads a JSON array of Cosmos DB faults; none without a file.
func readFaults(path string) ([]cosmos.Fault, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cosmos faults: %w", err)
	}
	var faults []cosmos.Fault
	if err := json.Unmarshal(b, &faults); err != nil {
		return nil, fmt.Errorf("cosmos faults in %s: %w", path, err)
	}
	return faults, nil
}
