package cosmos

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/ordersflow/orderpipeline/emulators/inproc"
)

// DefaultKey is the well-known key of the Cosmos DB emulator.
const DefaultKey = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="

// Options configure an emulator.
type Options struct {
	Addr              string // "127.0.0.1:0" if empty
	DataDir           string // "" = in memory
	TLS               bool
	CertFile, KeyFile string // optional, with TLS
	Key               string // "" = well-known emulator key

	// Partitions, when above 0, is the number of physical partitions of
	// every new container instead of ⌈RU/s ÷ 10,000⌉.
	Partitions int
	// ContainerPartitions sets it per container, keyed by
	// "database/container" or by container id; it wins over Partitions.
	ContainerPartitions map[string]int

	// Consistency is the account's default consistency level: Strong,
	// BoundedStaleness, Session (the default), ConsistentPrefix or Eventual.
	Consistency string
	// Region names the account's one region ("South Central US" if empty).
	Region string
	// RegionEndpoint is the endpoint the account advertises for its region
	// (e.g. behind a proxy); empty advertises the endpoint each client used.
	RegionEndpoint string

	// NoThrottle serves every request whatever the provisioned throughput.
	NoThrottle bool
	// ServerlessRUPerSecond, when positive, throttles containers with no
	// provisioned throughput (serverless) at this many RU/s per partition.
	ServerlessRUPerSecond float64

	// Now is the emulator's clock (time.Now if nil): the _ts of every item
	// written, and when an item's time to live runs out.
	Now func() time.Time
	// SweepInterval is how often expired items are deleted for good
	// (1 s if 0); they are invisible from the moment they expire.
	SweepInterval time.Duration
}

// Server is a running emulator.
type Server struct {
	opts      Options
	store     *store
	auth      *authenticator
	http      *http.Server
	listener  net.Listener
	clientTLS *tls.Config
	serveErr  chan error
	inflight  inflight
	throttle  *throttler
	faults    *faults
	charges   charges
	sweeper   *sweeper
	closeOnce sync.Once
	closeErr  error
}

// Start opens the store and serves on Options.Addr until Close.
func Start(opts Options) (*Server, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	auth, err := newAuthenticator(opts.Key)
	if err != nil {
		return nil, fmt.Errorf("decode key: %w", err)
	}
	st := newStore()
	if opts.DataDir != "" {
		if st, err = openStore(opts.DataDir); err != nil {
			return nil, err
		}
	}
	st.partitions = partitionConfig{byName: opts.ContainerPartitions, def: opts.Partitions}
	if opts.Now != nil {
		st.clock.now = opts.Now // before any request: the containers share it
	}
	s := &Server{opts: opts, store: st, auth: auth, serveErr: make(chan error, 1),
		throttle: newThrottler(opts), faults: newFaults()}
	if err := s.listen(); err != nil {
		_ = st.journal.close()
		return nil, err
	}
	s.sweeper = startSweeper(st, cmp.Or(opts.SweepInterval, sweepInterval))
	return s, nil
}

func (s *Server) listen() error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.opts.Addr, err)
	}
	s.listener = ln
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second, MaxHeaderBytes: maxHeaderBytes}
	if !s.opts.TLS {
		go func() { s.serveErr <- s.http.Serve(ln) }()
		return nil
	}
	serverTLS, clientTLS, err := loadOrCreateCert(s.opts, ln.Addr().(*net.TCPAddr).IP)
	if err != nil {
		_ = ln.Close()
		return err
	}
	s.http.TLSConfig, s.clientTLS = serverTLS, clientTLS
	go func() { s.serveErr <- s.http.ServeTLS(ln, "", "") }()
	return nil
}

// maxHeaderBytes bounds a request's header, over TCP and in process.
const maxHeaderBytes = http.DefaultMaxHeaderBytes

// Transport is a client transport (an azcore policy.Transporter, set as
// ClientOptions.Transport, and an http.RoundTripper) that serves each
// request with this emulator's handler in the calling process instead of
// over TCP, for a client in the same process as the emulator: the local
// Functions host in devstack. The handler is the one the listener serves,
// so faults, throttling, charges and shutdown apply alike; the transport
// applies the listener's header limit. Its requests name the endpoint's
// host, as a client of Endpoint does. Once Close has begun they are
// answered 503 (the emulator is shutting down) instead of refused.
func (s *Server) Transport() *inproc.Transport {
	return inproc.New(s, inproc.Options{TLS: s.opts.TLS, MaxHeaderBytes: maxHeaderBytes})
}

// Endpoint is the account endpoint, e.g. "http://127.0.0.1:41234/".
func (s *Server) Endpoint() string {
	scheme := "http"
	if s.opts.TLS {
		scheme = "https"
	}
	return scheme + "://" + s.listener.Addr().String() + "/"
}

// Key is the account key that signs requests.
func (s *Server) Key() string { return s.opts.Key }

// ConnectionString is "AccountEndpoint=<endpoint>;AccountKey=<key>;".
func (s *Server) ConnectionString() string {
	return "AccountEndpoint=" + s.Endpoint() + ";AccountKey=" + s.Key() + ";"
}

// TLSConfig is a client configuration that trusts the server's
// certificate, or nil when the server does not serve TLS.
func (s *Server) TLSConfig() *tls.Config {
	if s.clientTLS == nil {
		return nil
	}
	return s.clientTLS.Clone()
}

// Close stops the listener, waits for requests in flight, flushes and
// closes the store. Later calls return the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.shutdown() })
	return s.closeErr
}

// shutdown stops accepting, waits for the requests being served (their
// writes are durable when they answer), then closes every connection and
// the store. It does not wait for idle HTTP/2 clients to hang up.
func (s *Server) shutdown() error {
	stopAccepting, cancel := context.WithCancel(context.Background())
	cancel()
	_ = s.http.Shutdown(stopAccepting) // closes the listener, returns at once
	s.faults.clear()                   // no pending split fires on a closed store
	s.inflight.drain()
	s.sweeper.close() // its last deletions are durable before the store closes
	err := s.http.Close()
	if serveErr := <-s.serveErr; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return errors.Join(err, s.store.journal.close())
}
