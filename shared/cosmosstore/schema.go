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
	// DefaultTTL is the container's time to live in seconds (nil: off):
	// its items are deleted that long after their last write.
	DefaultTTL *int32 `json:"defaultTtl,omitempty"`
}

// EnsureSchema creates the database and every container of the schema that
// doesn't exist yet, and gives a container that does the schema's time to
// live if it has another. In Azure the Bicep creates them; the local stack
// and the tests call this with the same definition.
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
		props := azcosmos.ContainerProperties{ID: c.Name, DefaultTimeToLive: c.DefaultTTL,
			PartitionKeyDefinition: azcosmos.PartitionKeyDefinition{Paths: []string{c.PartitionKeyPath}}}
		_, err := db.CreateContainer(ctx, props, nil)
		switch err := translate(err); {
		case errors.Is(err, order.ErrConflict):
			if err := ensureTTL(ctx, db, c); err != nil {
				return err
			}
		case err != nil:
			return fmt.Errorf("create container %s: %w", c.Name, err)
		}
	}
	return nil
}

// ensureTTL gives an existing container the schema's time to live: a data
// directory made before the schema had one keeps its containers.
func ensureTTL(ctx context.Context, db *azcosmos.DatabaseClient, c Container) error {
	cc, err := db.NewContainer(c.Name)
	if err != nil {
		return fmt.Errorf("container %s: %w", c.Name, err)
	}
	resp, err := cc.Read(ctx, nil)
	if err != nil {
		return fmt.Errorf("read container %s: %w", c.Name, translate(err))
	}
	props := resp.ContainerProperties
	if sameTTL(props.DefaultTimeToLive, c.DefaultTTL) {
		return nil
	}
	props.DefaultTimeToLive = c.DefaultTTL
	if _, err := cc.Replace(ctx, *props, nil); err != nil {
		return fmt.Errorf("set the time to live of container %s: %w", c.Name, translate(err))
	}
	return nil
}

func sameTTL(a, b *int32) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
