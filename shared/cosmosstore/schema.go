package cosmosstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"github.com/ordersflow/orderpipeline/infra"
	"github.com/ordersflow/orderpipeline/shared/order"
)

// EnsureSchema creates the database and every container of the schema that
// doesn't exist yet. In Azure the Bicep creates them; the local stack and
// the tests call this with the same definition.
func EnsureSchema(ctx context.Context, client *azcosmos.Client, schema infra.Schema) error {
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
