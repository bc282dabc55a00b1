// Package devstack runs the whole app on one machine with no Azure: the
// embedded Cosmos DB emulator, the Service Bus emulator, Azurite (the
// host's AzureWebJobsStorage: keys and the primary lock) and the local
// Functions host driving the staged app. It creates the database and
// containers from infra/containers.json (the same definition the Bicep
// deploys) and seeds the demo catalog on first run.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"github.com/ordersflow/orderpipeline/emulators/azurite"
	"github.com/ordersflow/orderpipeline/emulators/cosmos"
	"github.com/ordersflow/orderpipeline/emulators/funchost"
	"github.com/ordersflow/orderpipeline/emulators/servicebus/sbemu"
	"github.com/ordersflow/orderpipeline/infra"
	"github.com/ordersflow/orderpipeline/shared/catalog"
	"github.com/ordersflow/orderpipeline/shared/config"
	"github.com/ordersflow/orderpipeline/shared/cosmosstore"
)

// Options choose where the stack listens and keeps its data.
type Options struct {
	AppDir           string        // staged app: host.json, function folders, handler
	Addr             string        // Functions host; default 127.0.0.1:7071
	CosmosAddr       string        // default 127.0.0.1:0
	DataDir          string        // "" keeps everything in memory
	RepoRoot         string        // default: found from the working directory
	ServiceBusConfig string        // default: emulators/servicebus/config/orderpipeline.json
	ServiceBus       string        // connection string of a running broker; "" starts the emulator
	Storage          string        // AzureWebJobsStorage of a running account; "" starts Azurite
	FeedPollDelay    time.Duration // overrides function.json; default DefaultFeedPollDelay
	LeaseExpiration  time.Duration // overrides function.json; default 10s
	LogLevel         string        // the handler's LOG_LEVEL; default warn
	OTLPEndpoint     string        // where the handler exports traces and metrics (OTEL_EXPORTER_OTLP_ENDPOINT); "" leaves the environment's
	Console          io.Writer     // the host's console; default os.Stderr

	// CosmosPartitions sets physical partitions per container id
	// (cosmos.Options.ContainerPartitions); nil: DefaultOrdersPartitions
	// for orders, the rest one per 10,000 RU/s.
	CosmosPartitions map[string]int
	// HandlerSettings are extra app settings for the handler (for example
	// PPROF_ADDR); they win over the stack's own.
	HandlerSettings map[string]string
	// ServiceBusCPUProfileDir, when set, has the Service Bus emulator's node
	// process write a CPU profile there when it stops.
	ServiceBusCPUProfileDir string
	// CosmosFaults are injected into the Cosmos DB emulator once the
	// stack is up (see emulators/cosmos, Fault).
	CosmosFaults []cosmos.Fault
	// Hosts > 1 runs a fleet: that many funchost processes (host-1 …) on
	// the same app and lease container, each with its own handler, behind
	// one round-robin port at Addr. 0 or 1 runs one host in this process.
	Hosts    int
	FuncHost string // the funchost binary for a fleet; default: next to this executable
	// ServiceBusFaultControl opens the Service Bus emulator's control
	// endpoint (sbemu.WithFaultControl); see Stack.ServiceBusControlURL.
	ServiceBusFaultControl bool
}

// DefaultFeedPollDelay is the local stack's feedPollDelay for every trigger
// (function.json says 500 ms for Azure). An idle order waits for three
// polls in series, each half of this on average: 30 ms keeps placed→Fulfilled
// near 100 ms at p99 with four leases per function, for about a tenth of a
// core of polling at idle.
const DefaultFeedPollDelay = 30 * time.Millisecond

// DefaultOrdersPartitions is how many physical partitions the local stack
// gives the orders container unless Options.CosmosPartitions says otherwise.
const DefaultOrdersPartitions = 4

// Stack is a running local stack.
type Stack struct {
	cosmos        *cosmos.Server
	bus           *supervisedBus
	busConnection string
	host          *funchost.Host
	fleet         *fleet
	settings      map[string]string

	azurite           *azurite.Server
	storageConnection string
	storageLog        *os.File
	keys              funchost.AppKeys
}

// Start brings the stack up and returns when the Functions host is ready.
// On failure everything already started is stopped.
func Start(ctx context.Context, o Options) (*Stack, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	st := &Stack{}
	if err := st.start(ctx, o); err != nil {
		return nil, errors.Join(err, st.Close())
	}
	// Read once the host has created them, whatever runs the host.
	if err := st.loadKeys(ctx, o); err != nil {
		return nil, errors.Join(err, st.Close())
	}
	return st, nil
}

func (st *Stack) start(ctx context.Context, o Options) error {
	if err := st.startCosmos(ctx, o); err != nil {
		return err
	}
	if err := st.startServiceBus(ctx, o); err != nil {
		return err
	}
	if err := st.startStorage(ctx, o); err != nil {
		return err
	}
	schema, err := infra.LoadSchema()
	if err != nil {
		return err
	}
	st.settings = appSettings(schema, st.cosmos.ConnectionString(), st.busConnection, o.LogLevel)
	st.settings["AzureWebJobsStorage"] = st.storageConnection
	if o.OTLPEndpoint != "" {
		// Export soon after each span ends, so a trace is complete moments
		// after the order is.
		st.settings["OTEL_EXPORTER_OTLP_ENDPOINT"] = o.OTLPEndpoint
		st.settings["OTEL_BSP_SCHEDULE_DELAY"] = "200"
		st.settings["OTEL_METRIC_EXPORT_INTERVAL"] = "5000"
	}
	for k, v := range o.HandlerSettings {
		st.settings[k] = v
	}
	if o.Hosts > 1 {
		if st.fleet, err = startFleet(ctx, o, st.settings); err != nil {
			return err
		}
		return st.injectFaults(o.CosmosFaults)
	}
	// The host shares this process with the emulator: its triggers' Cosmos
	// DB requests go to the emulator's handler without TCP.
	transports := map[string]policy.Transporter{st.cosmos.Endpoint(): st.cosmos.Transport()}
	host, err := funchost.New(funchost.Config{ScriptRoot: o.AppDir, Addr: o.Addr, Settings: st.settings,
		FeedPollDelay: o.FeedPollDelay, LeaseExpiration: o.LeaseExpiration, Log: o.Console,
		CosmosTransports: transports})
	if err != nil {
		return fmt.Errorf("local functions host: %w", err)
	}
	if err := host.Start(ctx); err != nil {
		return errors.Join(fmt.Errorf("start local functions host: %w", err), host.Close())
	}
	st.host = host
	return st.injectFaults(o.CosmosFaults)
}

func (o *Options) defaults() error {
	if o.AppDir == "" {
		return errors.New("devstack: AppDir (the staged app) is required; run make build")
	}
	app, err := filepath.Abs(o.AppDir)
	if err != nil {
		return err
	}
	o.AppDir = app
	if o.RepoRoot == "" {
		root, err := sbemu.RepoRoot()
		if err != nil {
			return err
		}
		o.RepoRoot = root
	}
	set := func(dst *string, def string) {
		if *dst == "" {
			*dst = def
		}
	}
	set(&o.Addr, "127.0.0.1:7071")
	set(&o.CosmosAddr, "127.0.0.1:0")
	set(&o.ServiceBusConfig, filepath.Join(o.RepoRoot, "emulators", "servicebus", "config", "orderpipeline.json"))
	set(&o.LogLevel, "warn")
	if o.CosmosPartitions == nil {
		// Several physical partitions, so the triggers run several leases
		// on the laptop as they do on a container that has been split.
		o.CosmosPartitions = map[string]int{"orders": DefaultOrdersPartitions}
	}
	if o.FeedPollDelay == 0 {
		o.FeedPollDelay = DefaultFeedPollDelay
	}
	if o.LeaseExpiration == 0 {
		o.LeaseExpiration = 10 * time.Second
	}
	if o.Console == nil {
		o.Console = os.Stderr
	}
	if o.Hosts > 1 && o.FuncHost == "" {
		if o.FuncHost, err = funcHostBinary(); err != nil {
			return err
		}
	}
	return nil
}

func (st *Stack) startCosmos(ctx context.Context, o Options) error {
	opts := cosmos.Options{Addr: o.CosmosAddr, ContainerPartitions: o.CosmosPartitions}
	if o.DataDir != "" {
		opts.DataDir = filepath.Join(o.DataDir, "cosmos")
	}
	srv, err := cosmos.Start(opts)
	if err != nil {
		return fmt.Errorf("start cosmos emulator: %w", err)
	}
	st.cosmos = srv
	return prepare(ctx, srv.ConnectionString())
}

// injectFaults starts the Cosmos DB faults once the stack is up.
func (st *Stack) injectFaults(faults []cosmos.Fault) error {
	for _, f := range faults {
		if _, err := st.cosmos.InjectFault(f); err != nil {
			return fmt.Errorf("cosmos fault: %w", err)
		}
	}
	return nil
}

// Cosmos is the embedded Cosmos DB emulator (for operator actions such as
// a partition split).
func (st *Stack) Cosmos() *cosmos.Server {
	return st.cosmos
}

// prepare creates the schema and seeds the demo catalog; existing documents
// are kept, so a second run changes nothing.
func prepare(ctx context.Context, connectionString string) error {
	client, err := azcosmos.NewClientFromConnectionString(connectionString, nil)
	if err != nil {
		return err
	}
	schema, err := infra.LoadSchema()
	if err != nil {
		return err
	}
	if err := cosmosstore.EnsureSchema(ctx, client, schema); err != nil {
		return err
	}
	names := containerSettings(schema)
	containers := config.LoadContainers(func(k string) string { return names[k] })
	store, err := cosmosstore.New(client, schema.Database, containers, cosmosstore.Options{})
	if err != nil {
		return err
	}
	items, err := catalog.Demo()
	if err != nil {
		return err
	}
	return store.Seed(ctx, items)
}

// containerSettings maps each container's app setting to its name, as the
// schema (the same definition the Bicep deploys) declares them.
func containerSettings(schema cosmosstore.Schema) map[string]string {
	m := map[string]string{"COSMOS_DATABASE": schema.Database}
	for _, c := range schema.Containers {
		m[c.Setting] = c.Name
	}
	return m
}

// appSettings are the handler's settings on the local stack.
func appSettings(schema cosmosstore.Schema, cosmosConn, busConn, logLevel string) map[string]string {
	s := containerSettings(schema)
	s["FUNCTIONS_WORKER_RUNTIME"] = "custom"
	s["COSMOS"], s["SERVICEBUS"] = cosmosConn, busConn
	s["SERVICEBUS_TOPIC"], s["LOG_LEVEL"] = "order-events", logLevel
	return s
}

// URL is the Functions host's base URL (a fleet's round-robin port).
func (st *Stack) URL() string {
	if st.fleet != nil {
		return st.fleet.url()
	}
	return st.host.URL()
}

// Instances are the host processes of a fleet (none for a single host).
func (st *Stack) Instances() []Instance {
	if st.fleet == nil {
		return nil
	}
	return st.fleet.instances()
}

// CosmosEndpoint is the Cosmos DB emulator's endpoint.
func (st *Stack) CosmosEndpoint() string { return st.cosmos.Endpoint() }

// Settings are the app settings a client of the stack needs.
func (st *Stack) Settings() map[string]string { return st.settings }

// Close stops the host (and handler), then the emulators.
func (st *Stack) Close() error {
	var errs []error
	if st.host != nil {
		errs = append(errs, st.host.Close())
	}
	if st.fleet != nil {
		errs = append(errs, st.fleet.close())
	}
	if st.bus != nil {
		errs = append(errs, st.bus.stop())
	}
	errs = append(errs, st.stopStorage())
	if st.cosmos != nil {
		errs = append(errs, st.cosmos.Close())
	}
	return errors.Join(errs...)
}
