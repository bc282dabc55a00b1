package main

import (
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/tracing"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/ordersflow/orderpipeline/shared/config"
)

// credential returns the managed identity named by the connection's
// settings, or the default chain (az login on a laptop).
func credential(c config.Connection) (azcore.TokenCredential, error) {
	if c.Credential == "managedidentity" {
		opts := &azidentity.ManagedIdentityCredentialOptions{}
		if c.ClientID != "" {
			opts.ID = azidentity.ClientID(c.ClientID)
		}
		return azidentity.NewManagedIdentityCredential(opts)
	}
	return azidentity.NewDefaultAzureCredential(nil)
}

// newCosmosClient builds the Cosmos DB client; with a tracing provider the
// SDK's spans (which carry each call's request charge) join ours.
func newCosmosClient(c config.Connection, tp tracing.Provider) (*azcosmos.Client, error) {
	opts := &azcosmos.ClientOptions{ClientOptions: azcore.ClientOptions{TracingProvider: tp}}
	if c.String != "" {
		client, err := azcosmos.NewClientFromConnectionString(c.String, opts)
		if err != nil {
			return nil, fmt.Errorf("cosmos client: %w", err)
		}
		return client, nil
	}
	cred, err := credential(c)
	if err != nil {
		return nil, fmt.Errorf("cosmos credential: %w", err)
	}
	client, err := azcosmos.NewClient(c.Endpoint, cred, opts)
	if err != nil {
		return nil, fmt.Errorf("cosmos client: %w", err)
	}
	return client, nil
}

func newSender(c config.Connection, topic string) (*azservicebus.Client, *azservicebus.Sender, error) {
	var client *azservicebus.Client
	var err error
	if c.String != "" {
		client, err = azservicebus.NewClientFromConnectionString(c.String, nil)
	} else {
		var cred azcore.TokenCredential
		if cred, err = credential(c); err == nil {
			client, err = azservicebus.NewClient(c.Endpoint, cred, nil)
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("service bus client: %w", err)
	}
	sender, err := client.NewSender(topic, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("service bus sender for %s: %w", topic, err)
	}
	return client, sender, nil
}
