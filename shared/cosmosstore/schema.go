package cosmosstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// Schema is the database and its containers, as infra/containers.json
// declares them for the Bicep and the local stack alike.
type Schema struct {
	Database   string      `json:"database"`
	Containers []Container `json:"containers"`
}

// Container is one Cosmos DB container of the app.
type Container struct {
	Name             string `json:"name"`
	Setting          string `json:"setting"` // app setting that names it
	PartitionKeyPath string `json:"partitionKeyPath"`
}

// EnsureSchema creates the database and every container of the schema that
// doesn't exist yet. In Azure the Bicep creates them; the local stack and
// the tests call this with the same definition.
func EnsureSchema(ctx context.Context, client *azcosmos.Client, schema Schema) error {
	_, err := client.CreateDatabase(ctx, azcosmos.DatabaseProperties{ID: schema.Database}, nil)
	if err := translate(err); err != nil && !errors.Is(err, order.ErrConflict) {
		return fmt.Errorf("create database %s: %w", schema.Database, err)
	}
	db, err := client.NewDatabase(schema.Database)
	if err != nil {
		return fmt.Errorf("database %s: %w", schema.Database, err)
	}
	for _, c := range schema.Containers {
		props := azcosmos.ContainerProperties{ID: c.Name,
			PartitionKeyDefinition: azcosmos.PartitionKeyDefinition{Paths: []string{c.PartitionKeyPath}}}
		_, err := db.CreateContainer(ctx, props, nil)
		if err := translate(err); err != nil && !errors.Is(err, order.ErrConflict) {
			return fmt.Errorf("create container %s: %w", c.Name, err)
		}
	}
	return nil
}
