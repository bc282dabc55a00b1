package funchost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/uuid"
)

// Config configures a local host.
type Config struct {
	ScriptRoot    string            // staged app dir: host.json, <Function>/function.json, handler binary
	Addr          string            // default "127.0.0.1:7071"; "127.0.0.1:0" allowed
	Settings      map[string]string // app settings, override local.settings.json and are passed to the handler env
	FeedPollDelay time.Duration     // 0 = use function.json
	// LeaseExpiration, when set, replaces every leaseExpirationInterval and
	// scales the renew and acquire intervals with it: a local host restarted
	// after a crash takes its leases back sooner than Azure's 60 s.
	LeaseExpiration time.Duration
	// InstanceID names this instance as the owner of its change feed
	// leases; instances of one app on one lease container need distinct
	// ids. Default: a new UUID.
	InstanceID string
	Log        io.Writer // console output
	// CosmosTransports, keyed by account endpoint, carry the requests of
	// every Cosmos DB connection whose AccountEndpoint is that key instead
	// of TCP: devstack gives the emulator running in its own process
	// (cosmos.Server.Transport). Other connections use TCP.
	CosmosTransports map[string]policy.Transporter

	// HTTP limits; zero takes the default. MaxRequestBodyBytes falls back
	// to the FUNCTIONS_REQUEST_BODY_SIZE_LIMIT app setting, then to
	// Azure's 100 MB.
	MaxRequestBodyBytes int64
	ReadHeaderTimeout   time.Duration // default 10 s
	ReadTimeout         time.Duration // headers and body; default 1 min
	WriteTimeout        time.Duration // default ReadTimeout + functionTimeout + 10 s
	IdleTimeout         time.Duration // keep-alive; default 2 min
	MaxConnections      int           // open HTTP connections; default 512
}

// DefaultAddr is where Core Tools serves.
const DefaultAddr = "127.0.0.1:7071"

// Host is a running local Functions host.
type Host struct {
	cfg      Config
	id       string
	hc       hostConfig
	settings *appSettings
	fns      []*function
	rt       *router
	cosmos   cosmosClients
	con      *console
	proc     *handlerProc
	inv      *invoker
	hostID   string
	keys     *keyring
	lock     *primaryLock
	// lockTiming, when set before Start, replaces the primary lock's timing.
	lockTiming lockTiming

	mu        sync.Mutex
	srv       *http.Server
	ln        net.Listener
	listeners []*listener
	started   bool
	closed    bool
}

// New loads and validates host.json, local.settings.json and every
// function.json; every problem found is reported in one error.
func New(cfg Config) (*Host, error) {
	if cfg.ScriptRoot == "" {
		return nil, errors.New("funchost: Config.ScriptRoot is required")
	}
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.Log == nil {
		cfg.Log = os.Stdout
	}
	root, err := filepath.Abs(cfg.ScriptRoot)
	if err != nil {
		return nil, fmt.Errorf("funchost: script root: %w", err)
	}
	cfg.ScriptRoot = root
	if cfg.InstanceID == "" {
		cfg.InstanceID = uuid.NewString()
	}
	h := &Host{cfg: cfg, id: cfg.InstanceID, con: &console{w: cfg.Log}}
	if err := h.load(); err != nil {
		return nil, fmt.Errorf("funchost: %s: %w", cfg.ScriptRoot, err)
	}
	return h, nil
}

func (h *Host) load() error {
	var err error
	if h.hc, err = loadHostJSON(h.cfg.ScriptRoot); err != nil {
		return err
	}
	if h.settings, err = loadAppSettings(h.cfg.ScriptRoot, h.cfg.Settings); err != nil {
		return err
	}
	h.hostID = hostID(h.settings, h.cfg.ScriptRoot)
	if h.fns, err = loadFunctions(h.cfg.ScriptRoot, h.hc, h.settings); err != nil {
		return err
	}
	if h.rt, err = newRouter(h.hc.RoutePrefix, h.fns); err != nil {
		return err
	}
	if h.cosmos, err = connectCosmos(h.fns, h.settings, h.cfg.CosmosTransports); err != nil {
		return err
	}
	if _, err := os.Stat(h.hc.Executable); err != nil {
		return fmt.Errorf("host.json: customHandler.description.defaultExecutablePath: %w", err)
	}
	return nil
}

// Start starts the handler, the HTTP listener and every change feed
// listener, and returns once all are ready.
func (h *Host) Start(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.started {
		return errors.New("funchost: Start called twice")
	}
	h.started = true
	if err := h.start(ctx); err != nil {
		h.closed = true // Close after a failed Start has nothing left to do
		return errors.Join(fmt.Errorf("funchost: start: %w", err), h.shutdown())
	}
	h.banner()
	for _, l := range h.listeners {
		l.run()
	}
	return nil
}

func (h *Host) start(ctx context.Context) error {
	proc, err := newHandlerProc(h.hc, h.settings, h.con)
	if err != nil {
		return err
	}
	h.proc = proc
	h.inv = &invoker{proc: proc, client: newHandlerClient(), timeout: h.hc.FunctionTimeout, con: h.con}
	if err := proc.start(ctx); err != nil {
		return err
	}
	if err := h.listenHTTP(); err != nil {
		return err
	}
	if err := h.startStorage(ctx); err != nil {
		return err
	}
	if err := h.serveHTTP(); err != nil {
		return err
	}
	for _, f := range h.fns {
		if f.Cosmos == nil {
			continue
		}
		l := newListener(h, f, h.id)
		if err := l.start(ctx); err != nil {
			return err
		}
		h.listeners = append(h.listeners, l)
	}
	return nil
}

// URL is the base URL of the HTTP listener, e.g. "http://127.0.0.1:7071".
func (h *Host) URL() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ln == nil {
		return "http://" + h.cfg.Addr
	}
	return "http://" + h.ln.Addr().String()
}

// Close stops the change feed listeners (releasing their leases), the
// HTTP listener and the handler process.
func (h *Host) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.closed = true
	return h.shutdown()
}

func (h *Host) shutdown() error {
	var errs []error
	for _, l := range h.listeners {
		l.stop()
	}
	errs = append(errs, h.stopHTTP())
	if h.lock != nil {
		h.lock.stop()
	}
	if h.proc != nil {
		errs = append(errs, h.proc.close())
	}
	if h.inv != nil {
		h.inv.client.CloseIdleConnections()
	}
	return errors.Join(errs...)
}

// IsPrimary reports whether this instance holds the primary host lock.
func (h *Host) IsPrimary() bool { return h.lock != nil && h.lock.primary.Load() }

// HostID is the id that names the host's keys and lock in storage.
func (h *Host) HostID() string { return h.hostID }

// MasterKey is the host's master key (opens every function and /admin).
func (h *Host) MasterKey() string {
	if h.keys == nil {
		return ""
	}
	return h.keys.master
}

// FunctionKey is the "default" key of function name ("" if it has none).
func (h *Host) FunctionKey(name string) string {
	if h.keys == nil {
		return ""
	}
	return h.keys.defaults[strings.ToLower(name)]
}
