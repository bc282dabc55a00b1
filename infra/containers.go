// Package infra exposes the declarative Cosmos DB container definition that
// both the Bicep templates (loadJsonContent) and the local stack read, so the
// laptop and Azure always create the same database and containers.
package infra

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

//go:embed containers.json
var containersJSON []byte

// Container is one Cosmos DB container of the app.
type Container struct {
	Name             string `json:"name"`
	Setting          string `json:"setting"` // app setting that names it
	PartitionKeyPath string `json:"partitionKeyPath"`
}

// Schema is the database and its containers.
type Schema struct {
	Database   string      `json:"database"`
	Containers []Container `json:"containers"`
}

// LoadSchema returns the embedded container definition.
func LoadSchema() (Schema, error) {
	var s Schema
	if err := json.Unmarshal(containersJSON, &s); err != nil {
		return Schema{}, fmt.Errorf("decode infra/containers.json: %w", err)
	}
	return s, nil
}
