package devstack

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ordersflow/orderpipeline/emulators/servicebus/sbemu"
)

// supervisedBus is the Service Bus emulator the stack started. If its
// process dies (a crash, kill -9) it is started again on the same ports and
// data, so the connection string the handler holds stays valid.
type supervisedBus struct {
	start func(ctx context.Context, opts ...sbemu.Option) (*sbemu.Emulator, error)
	log   io.Writer

	mu       sync.Mutex
	cur      *sbemu.Emulator
	restarts int
	closing  chan struct{}
	stopped  chan struct{}
	stopOnce sync.Once
}

// restartBackoff is how long the supervisor waits after a failed restart.
const restartBackoff = 500 * time.Millisecond

func (st *Stack) startServiceBus(ctx context.Context, o Options) error {
	if o.ServiceBus != "" {
		st.busConnection = o.ServiceBus
		return nil
	}
	logw, opts, err := busOptions(o)
	if err != nil {
		return err
	}
	sb := &supervisedBus{log: logw, closing: make(chan struct{}), stopped: make(chan struct{})}
	sb.start = func(ctx context.Context, more ...sbemu.Option) (*sbemu.Emulator, error) {
		return sbemu.Start(ctx, o.RepoRoot, o.ServiceBusConfig, logw, append(append([]sbemu.Option{}, opts...), more...)...)
	}
	bus, err := sb.start(ctx)
	if err != nil {
		return fmt.Errorf("start service bus emulator: %w", err)
	}
	sb.cur = bus
	st.bus, st.busConnection = sb, bus.ConnectionString()
	go sb.supervise(samePorts(bus, o.ServiceBusFaultControl))
	return nil
}

func busOptions(o Options) (io.Writer, []sbemu.Option, error) {
	logw := io.Discard
	var opts []sbemu.Option
	if o.DataDir != "" {
		if err := os.MkdirAll(o.DataDir, 0o755); err != nil {
			return nil, nil, err
		}
		f, err := os.OpenFile(filepath.Join(o.DataDir, "servicebus.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, nil, err
		}
		logw = f
		opts = append(opts, sbemu.WithDataDir(filepath.Join(o.DataDir, "servicebus")))
	}
	if o.ServiceBusCPUProfileDir != "" {
		opts = append(opts, sbemu.WithCPUProfile(o.ServiceBusCPUProfileDir))
	}
	if o.ServiceBusFaultControl {
		opts = append(opts, sbemu.WithFaultControl())
	}
	return logw, opts, nil
}

// samePorts are the options that start the emulator again where it listened.
func samePorts(bus *sbemu.Emulator, control bool) []sbemu.Option {
	opts := []sbemu.Option{sbemu.WithPort(portIn(strings.TrimPrefix(bus.ConnectionString(), "Endpoint=")))}
	if control {
		opts = append(opts, sbemu.WithControlPort(portIn(bus.ControlURL())))
	}
	return opts
}

// portIn is the port of a URL such as sb://127.0.0.1:5672;... (0 if none).
func portIn(raw string) int {
	raw, _, _ = strings.Cut(raw, ";")
	u, err := url.Parse(raw)
	if err != nil {
		return 0
	}
	p, _ := strconv.Atoi(u.Port())
	return p
}

// supervise restarts the emulator each time it exits until stop is called.
func (sb *supervisedBus) supervise(same []sbemu.Option) {
	defer close(sb.stopped)
	for {
		sb.mu.Lock()
		cur := sb.cur
		sb.mu.Unlock()
		select {
		case <-sb.closing:
			return
		case <-cur.Done():
		}
		if !sb.restart(same) {
			return
		}
	}
}

// restart starts the emulator again, retrying until it is up or the stack
// closes (the port may take a moment to be free). It reports whether it
// is up.
func (sb *supervisedBus) restart(same []sbemu.Option) bool {
	for {
		fmt.Fprintln(sb.log, "devstack: service bus emulator exited; starting it again on the same port and data")
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		bus, err := sb.start(ctx, same...)
		cancel()
		if err == nil {
			sb.mu.Lock()
			sb.cur = bus
			sb.restarts++
			sb.mu.Unlock()
			return true
		}
		fmt.Fprintf(sb.log, "devstack: restart service bus emulator: %v\n", err)
		select {
		case <-sb.closing:
			return false
		case <-time.After(restartBackoff):
		}
	}
}

// stop ends supervision, then the emulator; calling it again does nothing more.
func (sb *supervisedBus) stop() error {
	sb.stopOnce.Do(func() { close(sb.closing) })
	<-sb.stopped
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return sb.cur.Stop()
}

func (sb *supervisedBus) current() *sbemu.Emulator {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return sb.cur
}

// ServiceBusControlURL is the Service Bus emulator's control endpoint, ""
// unless Options.ServiceBusFaultControl asked for it.
func (st *Stack) ServiceBusControlURL() string {
	if st.bus == nil {
		return ""
	}
	return st.bus.current().ControlURL()
}

// ServiceBusPID is the pid of the Service Bus emulator now running (0 when
// the stack uses a broker it did not start).
func (st *Stack) ServiceBusPID() int {
	if st.bus == nil {
		return 0
	}
	return st.bus.current().PID()
}

// ServiceBusRestarts counts how often the stack started the Service Bus
// emulator again after it died.
func (st *Stack) ServiceBusRestarts() int {
	if st.bus == nil {
		return 0
	}
	st.bus.mu.Lock()
	defer st.bus.mu.Unlock()
	return st.bus.restarts
}
