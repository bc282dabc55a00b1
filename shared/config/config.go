// Package config reads the app settings of the custom handler. It is the one
// place that knows their names; only main packages call Load.
package config

import (
	"errors"
	"fmt"
	"strings"
)

// Setting names. The Functions host passes app settings to the handler as
// environment variables; "__" separates the parts of an identity-based
// connection exactly as the host's own bindings read them.
const (
	KeyPort                 = "FUNCTIONS_CUSTOMHANDLER_PORT"
	KeyCosmosConnection     = "COSMOS"
	KeyCosmosEndpoint       = "COSMOS__accountEndpoint"
	KeyCosmosCredential     = "COSMOS__credential"
	KeyCosmosClientID       = "COSMOS__clientId"
	KeyDatabase             = "COSMOS_DATABASE"
	KeyOrdersContainer      = "ORDERS_CONTAINER"
	KeyCatalogContainer     = "CATALOG_CONTAINER"
	KeyInventoryContainer   = "INVENTORY_CONTAINER"
	KeyPaymentsContainer    = "PAYMENTS_CONTAINER"
	KeyDeadLettersContainer = "DEADLETTERS_CONTAINER"
	KeyIdempotencyContainer = "IDEMPOTENCY_CONTAINER"
	KeyLeasesContainer      = "LEASES_CONTAINER"
	KeyServiceBusConnection = "SERVICEBUS"
	KeyServiceBusNamespace  = "SERVICEBUS__fullyQualifiedNamespace"
	KeyServiceBusCredential = "SERVICEBUS__credential"
	KeyServiceBusClientID   = "SERVICEBUS__clientId"
	KeyTopic                = "SERVICEBUS_TOPIC"
	KeyLogLevel             = "LOG_LEVEL"
)

// Keys lists every setting Load reads, in a stable order. The infrastructure
// consistency test checks that Bicep and local.settings.json.example set each.
func Keys() []string {
	return []string{
		KeyPort,
		KeyCosmosConnection, KeyCosmosEndpoint, KeyCosmosCredential, KeyCosmosClientID,
		KeyDatabase, KeyOrdersContainer, KeyCatalogContainer, KeyInventoryContainer,
		KeyPaymentsContainer, KeyDeadLettersContainer, KeyIdempotencyContainer, KeyLeasesContainer,
		KeyServiceBusConnection, KeyServiceBusNamespace, KeyServiceBusCredential, KeyServiceBusClientID,
		KeyTopic, KeyLogLevel,
	}
}

// Connection is how to reach an Azure service: a connection string (local
// emulators, key auth) or an endpoint with a managed identity (Azure).
type Connection struct {
	String     string // connection string; empty when identity-based
	Endpoint   string // account endpoint or fully qualified namespace
	Credential string // "managedidentity" or empty for the default chain
	ClientID   string // user-assigned identity client id
}

// Containers names the Cosmos DB containers of the app.
type Containers struct {
	Orders, Catalog, Inventory, Payments, DeadLetters, Idempotency, Leases string
}

// Config is every setting of the handler.
type Config struct {
	Port       string
	Cosmos     Connection
	Database   string
	Containers Containers
	ServiceBus Connection
	Topic      string
	LogLevel   string
}

// Load reads the settings through getenv, applies defaults and reports every
// missing or invalid setting together.
func Load(getenv func(string) string) (Config, error) {
	r := reader{getenv: getenv}
	cfg := Config{
		Port:       r.get(KeyPort, "8080"),
		Cosmos:     r.connection(KeyCosmosConnection, KeyCosmosEndpoint, KeyCosmosCredential, KeyCosmosClientID),
		Database:   r.get(KeyDatabase, "commerce"),
		ServiceBus: r.connection(KeyServiceBusConnection, KeyServiceBusNamespace, KeyServiceBusCredential, KeyServiceBusClientID),
		Topic:      r.get(KeyTopic, "order-events"),
		LogLevel:   r.get(KeyLogLevel, "info"),
		Containers: Containers{
			Orders:      r.get(KeyOrdersContainer, "orders"),
			Catalog:     r.get(KeyCatalogContainer, "catalog"),
			Inventory:   r.get(KeyInventoryContainer, "inventory"),
			Payments:    r.get(KeyPaymentsContainer, "payments"),
			DeadLetters: r.get(KeyDeadLettersContainer, "deadletters"),
			Idempotency: r.get(KeyIdempotencyContainer, "idempotency"),
			Leases:      r.get(KeyLeasesContainer, "leases"),
		},
	}
	if len(r.problems) > 0 {
		return Config{}, fmt.Errorf("config: %w", errors.New(strings.Join(r.problems, "; ")))
	}
	return cfg, nil
}

type reader struct {
	getenv   func(string) string
	problems []string
}

func (r *reader) get(key, def string) string {
	if v := strings.TrimSpace(r.getenv(key)); v != "" {
		return v
	}
	return def
}

func (r *reader) connection(str, endpoint, credential, clientID string) Connection {
	c := Connection{
		String:     r.get(str, ""),
		Endpoint:   r.get(endpoint, ""),
		Credential: r.get(credential, ""),
		ClientID:   r.get(clientID, ""),
	}
	switch {
	case c.String == "" && c.Endpoint == "":
		r.problems = append(r.problems, fmt.Sprintf("set %s (connection string) or %s (managed identity)", str, endpoint))
	case c.Credential != "" && c.Credential != "managedidentity":
		r.problems = append(r.problems, fmt.Sprintf("%s must be \"managedidentity\", got %q", credential, c.Credential))
	}
	return c
}
