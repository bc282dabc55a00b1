// Package config reads the app settings of the custom handler. It is the one
// place that knows their names; only main packages call Load.
package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ordersflow/orderpipeline/shared/cosmosstore"
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
	KeyStageConcurrency     = "STAGE_CONCURRENCY"
	KeyCatalogCacheSeconds  = "CATALOG_CACHE_SECONDS"
	KeyStageYieldCheckouts  = "STAGE_YIELD_CHECKOUTS"
)

// Keys lists every setting of the app in a stable order: those Load reads,
// and LEASES_CONTAINER, which only the host's triggers read (leaseContainerName
// in each function.json). The infrastructure consistency test checks that
// Bicep and local.settings.json.example set each.
func Keys() []string {
	return []string{
		KeyPort,
		KeyCosmosConnection, KeyCosmosEndpoint, KeyCosmosCredential, KeyCosmosClientID,
		KeyDatabase, KeyOrdersContainer, KeyCatalogContainer, KeyInventoryContainer,
		KeyPaymentsContainer, KeyDeadLettersContainer, KeyIdempotencyContainer, KeyLeasesContainer,
		KeyServiceBusConnection, KeyServiceBusNamespace, KeyServiceBusCredential, KeyServiceBusClientID,
		KeyTopic, KeyLogLevel, KeyStageConcurrency, KeyCatalogCacheSeconds, KeyStageYieldCheckouts,
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

// Config is every setting of the handler.
type Config struct {
	Port       string
	Cosmos     Connection
	Database   string
	Containers cosmosstore.Containers
	ServiceBus Connection
	Topic      string
	LogLevel   string
	// StageConcurrency bounds the orders of one change feed batch that a
	// stage works on at once; 0 means the handler's default.
	StageConcurrency int
	// CatalogCache is how long checkout keeps a product's price before it
	// reads the catalog again; 0 reads it on every checkout.
	CatalogCache time.Duration
	// StageYieldCheckouts is how many checkouts in flight make the change
	// feed stages give way to checkout; 0 never.
	StageYieldCheckouts int
}

// DefaultStageYieldCheckouts is StageYieldCheckouts when
// STAGE_YIELD_CHECKOUTS is unset: checkout first once 16 are in flight,
// which a shop of a few orders a second never reaches and a burst does at
// once (README, "Checkout first", has the measurements behind 16).
const DefaultStageYieldCheckouts = 16

// DefaultCatalogCache is CatalogCache when CATALOG_CACHE_SECONDS is unset:
// a price changed in the catalog reaches checkouts within 10 s, and a
// checkout of SKUs sold in the last 10 s is one Cosmos DB call instead of
// two.
const DefaultCatalogCache = 10 * time.Second

// Load reads the settings through getenv, applies defaults and reports every
// missing or invalid setting together.
func Load(getenv func(string) string) (Config, error) {
	r := reader{getenv: getenv}
	cfg := Config{
		Port:                r.get(KeyPort, "8080"),
		Cosmos:              r.connection(KeyCosmosConnection, KeyCosmosEndpoint, KeyCosmosCredential, KeyCosmosClientID),
		Database:            r.get(KeyDatabase, "commerce"),
		ServiceBus:          r.connection(KeyServiceBusConnection, KeyServiceBusNamespace, KeyServiceBusCredential, KeyServiceBusClientID),
		Topic:               r.get(KeyTopic, "order-events"),
		LogLevel:            r.get(KeyLogLevel, "info"),
		StageConcurrency:    r.positive(KeyStageConcurrency, 1024),
		CatalogCache:        r.seconds(KeyCatalogCacheSeconds, DefaultCatalogCache, 3600),
		StageYieldCheckouts: r.whole(KeyStageYieldCheckouts, DefaultStageYieldCheckouts, 1024),
		Containers:          r.containers(),
	}
	if len(r.problems) > 0 {
		return Config{}, fmt.Errorf("config: %w", errors.New(strings.Join(r.problems, "; ")))
	}
	return cfg, nil
}

// LoadContainers reads the names of the containers the store uses, with
// their defaults (Load reads them the same way).
func LoadContainers(getenv func(string) string) cosmosstore.Containers {
	r := reader{getenv: getenv}
	return r.containers()
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

func (r *reader) containers() cosmosstore.Containers {
	return cosmosstore.Containers{
		Orders:      r.get(KeyOrdersContainer, "orders"),
		Catalog:     r.get(KeyCatalogContainer, "catalog"),
		Inventory:   r.get(KeyInventoryContainer, "inventory"),
		Payments:    r.get(KeyPaymentsContainer, "payments"),
		DeadLetters: r.get(KeyDeadLettersContainer, "deadletters"),
		Idempotency: r.get(KeyIdempotencyContainer, "idempotency"),
	}
}

// positive reads an optional whole number from 1 to limit; unset is 0.
func (r *reader) positive(key string, limit int) int { return r.number(key, 1, limit) }

// whole reads an optional whole number from 0 to limit, def when unset.
func (r *reader) whole(key string, def, limit int) int {
	if r.get(key, "") == "" {
		return def
	}
	return r.number(key, 0, limit)
}

func (r *reader) number(key string, least, limit int) int {
	v := r.get(key, "")
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < least || n > limit {
		r.problems = append(r.problems, fmt.Sprintf("%s must be a whole number from %d to %d, got %q", key, least, limit, v))
		return 0
	}
	return n
}

// seconds reads an optional whole number of seconds from 0 to limit.
func (r *reader) seconds(key string, def time.Duration, limit int) time.Duration {
	v := r.get(key, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > limit {
		r.problems = append(r.problems, fmt.Sprintf("%s must be a whole number of seconds from 0 to %d, got %q", key, limit, v))
		return 0
	}
	return time.Duration(n) * time.Second
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
