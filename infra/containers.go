// Package infra exposes the declarative Cosmos DB container definition that
// both the Bicep templates (loadJsonContent) and the local stack read, so the
// laptop and Azure always create the same database and containers. Only the
// local stack and tests import it; the handler binary doesn't.
package infra

import (
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/ordersflow/orderpipeline/shared/cosmosstore"
)

//go:embed containers.json
var containersJSON []byte

// LoadSchema returns the embedded container definition.
func LoadSchema() (cosmosstore.Schema, error) {
	var s cosmosstore.Schema
	if err := json.Unmarshal(containersJSON, &s); err != nil {
		return cosmosstore.Schema{}, fmt.Errorf("decode infra/containers.json: %w", err)
	}
	return s, nil
}
