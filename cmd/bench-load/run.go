package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"github.com/ordersflow/orderpipeline/internal/feedpage"
)

// measurement is everything one run collects, before it is summarised.
type measurement struct {
	cfg        config
	begin      time.Time // load started
	loadEnd    time.Time // last checkout answered
	drained    time.Time // every accepted order final and published (or timeout)
	drainedOK  bool
	checkouts  []checkout
	events     map[string][]trackedEvent
	kinds      map[string]int
	samples    []sample // one a second, live
	procs      []process
	cpuBefore  []time.Duration
	cpuLoadEnd []time.Duration
	cpuAfter   []time.Duration
	peakRSS    []int64 // bytes, when the backlog drained; -1 unknown
	ioBefore   []int64 // read and write system calls; -1 unknown
	ioAfter    []int64
	ru         []stageRU
	raw        *rawCreates
	profiles   []string
	disabled   []string // the functions -checkout-only turned off
}

// sample is one progress line.
type sample struct {
	at     time.Time
	placed int
	prog   progress
}

func run(ctx context.Context, cfg config, st *stack, out io.Writer) (*report, error) {
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: cfg.clients + 8, DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}}
	products, err := fetchProducts(ctx, hc, st.url)
	if err != nil {
		return nil, err
	}
	client, err := newFeedClient(st.cosmos)
	if err != nil {
		return nil, fmt.Errorf("cosmos client: %w", err)
	}
	var from *time.Time
	if cfg.base != "" {
		now := time.Now().Add(-time.Second)
		from = &now
	}
	tr, err := newTracker(client, st.setting, from)
	if err != nil {
		return nil, err
	}
	m := &measurement{cfg: cfg}
	if m.procs, err = stackProcesses(st.pid); err != nil {
		return nil, err
	}
	trackCtx, stopTracking := context.WithCancel(ctx)
	defer stopTracking()
	go tr.run(trackCtx)
	if err := m.load(ctx, cfg, st, hc, products, tr, out); err != nil {
		return nil, err
	}
	stopTracking()
	if cfg.rawDuration > 0 {
		if m.raw, err = measureRawCreates(ctx, cfg.rawClients, cfg.rawDuration); err != nil {
			return nil, fmt.Errorf("raw create benchmark: %w", err)
		}
	}
	return summarise(m), nil
}

func (m *measurement) load(ctx context.Context, cfg config, st *stack, hc *http.Client, products []product, tr *tracker, out io.Writer) error {
	var host *hostMeter
	if st.ru != nil {
		st.ru.reset()
		host = newHostMeter(ctx, st.cosmos, st.setting["LEASES_CONTAINER"], tr.own)
	}
	d := &driver{hc: hc, base: st.url, gen: newGenerator(products, cfg.declined, cfg.exhaust, cfg.seed),
		orders: cfg.orders, rate: cfg.rate, clients: cfg.clients}
	if cfg.keys {
		d.keys = fmt.Sprintf("bench-%d-", time.Now().UnixNano()) // fresh on every run, also against -base
	}
	m.begin = time.Now()
	if cfg.duration > 0 {
		d.until = m.begin.Add(cfg.duration)
	}
	m.cpuBefore, m.ioBefore = cpuTimes(m.procs), ioCalls(m.procs)
	profiles := startProfiles(ctx, st.pprof, cfg.pprofDir, cfg.pprofSeconds)
	fmt.Fprintf(out, "bench-load: %s on %s, %d SKUs\n", describeLoad(cfg), st.url, len(products))
	stopProgress := m.progress(ctx, d, tr, out)
	m.checkouts = d.run(ctx)
	m.loadEnd = time.Now()
	m.cpuLoadEnd = cpuTimes(m.procs)
	if errp := d.genErr.Load(); errp != nil && len(m.checkouts) == 0 {
		stopProgress()
		return *errp
	}
	if m.disabled = st.disabled; len(m.disabled) == 0 { // else nothing moves the orders on
		m.drainedOK = m.waitDrained(ctx, tr, int(d.placed.Load()))
	}
	m.drained = time.Now()
	m.cpuAfter, m.ioAfter = cpuTimes(m.procs), ioCalls(m.procs)
	m.peakRSS = peakRSSes(m.procs)
	stopProgress()
	if st.ru != nil {
		st.ru.settle(300*time.Millisecond, 3*time.Second)
		m.ru = st.ru.snapshot()
		if h, ok := host.since(ctx); ok {
			m.ru = append(m.ru, h)
		}
	}
	m.events, m.kinds = tr.snapshot()
	m.profiles = profiles()
	if p := tr.progress(); p.err != nil {
		return fmt.Errorf("follow the change feed: %w", p.err)
	}
	return ctx.Err()
}

// newFeedClient is the tracker's client: its change feed pages are split
// by feedpage, not decoded by the SDK.
func newFeedClient(conn string) (*azcosmos.Client, error) {
	return azcosmos.NewClientFromConnectionString(conn, &azcosmos.ClientOptions{
		ClientOptions: azcore.ClientOptions{PerCallPolicies: []policy.Policy{feedpage.Policy}}})
}

func describeLoad(cfg config) string {
	how := fmt.Sprintf("%d clients, closed loop", cfg.clients)
	if cfg.rate > 0 {
		how = fmt.Sprintf("%.0f orders/s (at most %d in flight)", cfg.rate, cfg.clients)
	}
	var limit []string
	if cfg.orders > 0 {
		limit = append(limit, fmt.Sprintf("%d orders", cfg.orders))
	}
	if cfg.duration > 0 {
		limit = append(limit, cfg.duration.String())
	}
	how += ", " + strings.Join(limit, " or ")
	if cfg.keys {
		how += ", an Idempotency-Key on each"
	}
	if cfg.yieldCheckouts >= 0 {
		how += fmt.Sprintf(", STAGE_YIELD_CHECKOUTS=%d", cfg.yieldCheckouts)
	}
	return how
}

// waitDrained waits until every accepted order is final and PublishEvents
// has checkpointed everything read, or -drain-timeout passes.
func (m *measurement) waitDrained(ctx context.Context, tr *tracker, placed int) bool {
	deadline := time.Now().Add(m.cfg.drainTimeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		p := tr.progress()
		if p.err != nil {
			return false
		}
		if p.final >= placed && p.unread["publish-"] == 0 {
			return true
		}
		select {
		case <-ctx.Done():
		case <-time.After(trackerIdle):
		}
	}
	return false
}

// progress prints a line a second until the returned func is called.
func (m *measurement) progress(ctx context.Context, d *driver, tr *tracker, out io.Writer) func() {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case now := <-tick.C:
				s := sample{at: now, placed: int(d.placed.Load()), prog: tr.progress()}
				m.samples = append(m.samples, s)
				fmt.Fprintln(out, s.line(m.begin, d.failed.Load()))
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

func (s sample) line(begin time.Time, failed int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%5.0fs  placed %6d", s.at.Sub(begin).Seconds(), s.placed)
	if failed > 0 {
		fmt.Fprintf(&b, " (%d failed)", failed)
	}
	fmt.Fprintf(&b, "  final %6d  waiting", s.prog.final)
	for i, n := range s.prog.waiting {
		if stage(i) != waitCancel {
			fmt.Fprintf(&b, " %s %d", stageNames[i], n)
		}
	}
	b.WriteString("  unread")
	for _, p := range leasePrefixes {
		n, ok := s.prog.unread[p]
		v := "-" // no checkpoint read yet
		if ok {
			v = fmt.Sprint(n)
		}
		fmt.Fprintf(&b, " %s %s", strings.TrimSuffix(p, "-"), v)
	}
	return b.String()
}

// startProfiles takes CPU profiles of devstack and the handler for
// seconds, in the background; the returned func waits for them, saves both
// processes' allocation profiles (everything allocated since they started)
// and lists the files written (node writes its own when the stack stops).
func startProfiles(ctx context.Context, p profileAddrs, dir string, seconds int) func() []string {
	if dir == "" || p.devstack == "" {
		return func() []string { return nil }
	}
	var mu sync.Mutex
	var files []string
	var wg sync.WaitGroup
	for name, addr := range map[string]string{"devstack": p.devstack, "handler": p.handler} {
		wg.Go(func() {
			path, err := fetchProfile(ctx, addr, dir, name, seconds)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				files = append(files, fmt.Sprintf("%s: %v", name, err))
				return
			}
			files = append(files, path)
		})
	}
	wg.Go(func() {
		path, err := profileSelf(ctx, dir, seconds)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			path = fmt.Sprintf("bench-load: %v", err)
		}
		files = append(files, path)
	})
	return func() []string {
		wg.Wait()
		for name, addr := range map[string]string{"devstack": p.devstack, "handler": p.handler} {
			path, err := fetchPprof(ctx, addr, "allocs", dir, name+".allocs", 30*time.Second)
			if err != nil {
				path = fmt.Sprintf("%s allocs: %v", name, err)
			}
			files = append(files, path)
		}
		sort.Strings(files)
		return append(files, p.nodeDir+"/*.cpuprofile (written when the stack stops)")
	}
}

// profileSelf writes this process's CPU profile (the load and the
// tracker) for seconds as dir/bench-load.pprof.
func profileSelf(ctx context.Context, dir string, seconds int) (string, error) {
	path := filepath.Join(dir, "bench-load.pprof")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return "", errors.Join(err, f.Close())
	}
	select {
	case <-ctx.Done():
	case <-time.After(time.Duration(seconds) * time.Second):
	}
	pprof.StopCPUProfile()
	return path, f.Close()
}

func fetchProfile(ctx context.Context, addr, dir, name string, seconds int) (string, error) {
	return fetchPprof(ctx, addr, fmt.Sprintf("profile?seconds=%d", seconds), dir, name, time.Duration(seconds+30)*time.Second)
}

// fetchPprof saves /debug/pprof/<profile> of addr as dir/<name>.pprof.
func fetchPprof(ctx context.Context, addr, profile, dir, name string, timeout time.Duration) (string, error) {
	url := fmt.Sprintf("http://%s/debug/pprof/%s", addr, profile)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := (&http.Client{Timeout: timeout}).Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", url, resp.Status)
	}
	path := fmt.Sprintf("%s/%s.pprof", dir, name)
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return "", err
	}
	return path, f.Close()
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
