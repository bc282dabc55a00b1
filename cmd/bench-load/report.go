package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// report is what a run found; report.json holds it as is.
type report struct {
	Load     string         `json:"load"`
	Disabled []string       `json:"disabledFunctions,omitempty"` // -checkout-only
	Checkout checkoutReport `json:"checkout"`
	EndToEnd e2eReport      `json:"endToEnd"`
	Backlog  backlogReport  `json:"backlog"`
	CPU      []cpuRow       `json:"cpu"`
	RU       []ruRow        `json:"requestUnits"`
	FeedDocs map[string]int `json:"changeFeedDocuments"` // orders container, by kind
	Raw      *rawCreates    `json:"rawCosmosCreates,omitempty"`
	RawRatio float64        `json:"endToEndOverRaw,omitempty"`
	Profiles []string       `json:"profiles,omitempty"`
	Series   []point        `json:"-"`
}

type checkoutReport struct {
	Sent     int            `json:"sent"`
	Accepted int            `json:"accepted"`
	Failed   map[string]int `json:"failed"` // by status ("0": no response)
	Seconds  float64        `json:"seconds"`
	PerSec   float64        `json:"perSecond"`
	P50ms    float64        `json:"p50Ms"`
	P90ms    float64        `json:"p90Ms"`
	P99ms    float64        `json:"p99Ms"`
}

type e2eReport struct {
	Final     int     `json:"final"`
	Fulfilled int     `json:"fulfilled"`
	Cancelled int     `json:"cancelled"`
	NotFinal  int     `json:"notFinal"` // accepted, not final when the run ended
	Seconds   float64 `json:"seconds"`  // first OrderPlaced → last final event
	PerSec    float64 `json:"perSecond"`
	PeakPerS  int     `json:"peakPerSecond"`
	P50ms     float64 `json:"placedToFinalP50Ms"`
	P99ms     float64 `json:"placedToFinalP99Ms"`
}

type backlogReport struct {
	Max        int     `json:"max"`          // orders placed and not final, at most
	MaxAtS     float64 `json:"maxAtSeconds"` // since the load began
	DrainS     float64 `json:"drainSeconds"` // load stopped → last order final
	Drained    bool    `json:"drained"`      // every accepted order final and published before -drain-timeout
	PublishedS float64 `json:"publishCaughtUpSeconds"`
}

type cpuRow struct {
	Process       string  `json:"process"`
	PID           int     `json:"pid"`
	Seconds       float64 `json:"seconds"`
	LoadSeconds   float64 `json:"duringLoadSeconds"`
	DrainSeconds  float64 `json:"afterLoadSeconds"`
	MsPerOrder    float64 `json:"msPerOrder"`
	PeakRSSMiB    float64 `json:"peakRSSMiB,omitempty"`             // VmHWM when the backlog drained
	CallsPerOrder float64 `json:"readWriteCallsPerOrder,omitempty"` // read and write system calls
}

type ruRow struct {
	Function    string  `json:"function"`
	Invocations int     `json:"invocations"`
	RU          float64 `json:"ru"`
	PerOrder    float64 `json:"ruPerOrder"`
}

func summarise(m *measurement) *report {
	r := &report{Load: describeLoad(m.cfg), Disabled: m.disabled, FeedDocs: m.kinds, Raw: m.raw, Profiles: m.profiles}
	accepted := r.summariseCheckouts(m)
	r.summariseOrders(m, accepted)
	r.summariseCPU(m)
	for _, s := range m.ru {
		r.RU = append(r.RU, ruRow{Function: s.Function, Invocations: s.Invocations, RU: s.RU, PerOrder: perOrder(s.RU, r.Checkout.Accepted)})
	}
	if r.Raw != nil && r.Raw.PerSec > 0 && len(r.Disabled) == 0 {
		r.RawRatio = r.EndToEnd.PerSec / r.Raw.PerSec
	}
	r.Series = series(m, accepted)
	for _, p := range r.Series {
		r.EndToEnd.PeakPerS = max(r.EndToEnd.PeakPerS, p.Final)
	}
	return r
}

func perOrder(total float64, orders int) float64 {
	if orders == 0 {
		return 0
	}
	return total / float64(orders)
}

// summariseCheckouts returns the ids of the accepted orders.
func (r *report) summariseCheckouts(m *measurement) map[string]bool {
	c := checkoutReport{Sent: len(m.checkouts), Failed: map[string]int{}}
	accepted := map[string]bool{}
	var lat []time.Duration
	for _, ch := range m.checkouts {
		if ch.status == http.StatusAccepted {
			accepted[ch.id] = true
			lat = append(lat, ch.latency)
			continue
		}
		c.Failed[fmt.Sprint(ch.status)]++
	}
	c.Accepted = len(accepted)
	if n := len(m.checkouts); n > 0 {
		c.Seconds = m.loadEnd.Sub(m.begin).Seconds()
		c.PerSec = float64(c.Accepted) / c.Seconds
	}
	c.P50ms, c.P90ms, c.P99ms = pct(lat, 0.50), pct(lat, 0.90), pct(lat, 0.99)
	r.Checkout = c
	return accepted
}

func (r *report) summariseOrders(m *measurement, accepted map[string]bool) {
	e := e2eReport{}
	var lat []time.Duration
	var first, last time.Time
	for id := range accepted {
		evs := m.events[id]
		if len(evs) == 0 || !isFinal(evs[len(evs)-1].typ) {
			e.NotFinal++
			continue
		}
		placed, final := evs[0].at, evs[len(evs)-1].at
		e.Final++
		if evs[len(evs)-1].typ == order.OrderFulfilled {
			e.Fulfilled++
		} else {
			e.Cancelled++
		}
		lat = append(lat, final.Sub(placed))
		if first.IsZero() || placed.Before(first) {
			first = placed
		}
		if final.After(last) {
			last = final
		}
	}
	if e.Final > 0 {
		e.Seconds = last.Sub(first).Seconds()
		e.PerSec = float64(e.Final) / max(e.Seconds, 1e-3)
	}
	e.P50ms, e.P99ms = pct(lat, 0.50), pct(lat, 0.99)
	r.EndToEnd = e
	r.Backlog = backlogOf(m, accepted, last)
}

func backlogOf(m *measurement, accepted map[string]bool, lastFinal time.Time) backlogReport {
	type step struct {
		at time.Time
		d  int
	}
	var steps []step
	for id := range accepted {
		evs := m.events[id]
		if len(evs) == 0 {
			continue
		}
		steps = append(steps, step{evs[0].at, 1})
		if isFinal(evs[len(evs)-1].typ) {
			steps = append(steps, step{evs[len(evs)-1].at, -1})
		}
	}
	sort.Slice(steps, func(i, j int) bool {
		return steps[i].at.Before(steps[j].at) || steps[i].at.Equal(steps[j].at) && steps[i].d < steps[j].d
	})
	b := backlogReport{Drained: m.drainedOK}
	n := 0
	for _, s := range steps {
		n += s.d
		if n > b.Max {
			b.Max, b.MaxAtS = n, s.at.Sub(m.begin).Seconds()
		}
	}
	if !lastFinal.IsZero() {
		b.DrainS = max(0, lastFinal.Sub(m.loadEnd).Seconds())
	}
	if m.drainedOK {
		b.PublishedS = m.drained.Sub(m.loadEnd).Seconds()
	}
	return b
}

func (r *report) summariseCPU(m *measurement) {
	for i, p := range m.procs {
		if m.cpuBefore[i] < 0 || m.cpuAfter[i] < 0 {
			r.CPU = append(r.CPU, cpuRow{Process: p.Name + " (exited during the run)", PID: p.PID})
			continue
		}
		total := m.cpuAfter[i] - m.cpuBefore[i]
		row := cpuRow{Process: p.Name, PID: p.PID, Seconds: total.Seconds(),
			LoadSeconds: (m.cpuLoadEnd[i] - m.cpuBefore[i]).Seconds(), DrainSeconds: (m.cpuAfter[i] - m.cpuLoadEnd[i]).Seconds()}
		row.MsPerOrder = perOrder(total.Seconds()*1000, r.Checkout.Accepted)
		if i < len(m.peakRSS) && m.peakRSS[i] > 0 {
			row.PeakRSSMiB = float64(m.peakRSS[i]) / (1 << 20)
		}
		if i < len(m.ioAfter) && i < len(m.ioBefore) && m.ioBefore[i] >= 0 && m.ioAfter[i] >= 0 {
			row.CallsPerOrder = perOrder(float64(m.ioAfter[i]-m.ioBefore[i]), r.Checkout.Accepted)
		}
		r.CPU = append(r.CPU, row)
	}
}

// pct is the p-quantile of d in milliseconds (0 when d is empty).
func pct(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return ms(s[int(p*float64(len(s)-1))])
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (r *report) print(w io.Writer) {
	c := r.Checkout
	fmt.Fprintf(w, "\nbench-load report: %s\n", r.Load)
	fmt.Fprintf(w, "  checkout     %6d accepted of %d in %.2f s: %7.1f orders/s   p50 %6.1f ms  p90 %6.1f ms  p99 %6.1f ms  failed %v\n",
		c.Accepted, c.Sent, c.Seconds, c.PerSec, c.P50ms, c.P90ms, c.P99ms, c.Failed)
	if len(r.Disabled) > 0 {
		fmt.Fprintf(w, "  end to end   not measured: -checkout-only disabled %s\n", strings.Join(r.Disabled, ", "))
	} else {
		r.printEndToEnd(w)
	}
	fmt.Fprintln(w, "  CPU per order (utime+stime; during load / after), read and write system calls per order, peak resident memory (VmHWM):")
	for _, p := range r.CPU {
		fmt.Fprintf(w, "    %-36s pid %-7d %7.2f s  %6.2f ms/order   (%.2f / %.2f s)   %6.1f r/w calls/order   peak RSS %4.0f MiB\n",
			p.Process, p.PID, p.Seconds, p.MsPerOrder, p.LoadSeconds, p.DrainSeconds, p.CallsPerOrder, p.PeakRSSMiB)
	}
	r.printRU(w)
	fmt.Fprintf(w, "  change feed  orders container documents by kind: %v\n", r.FeedDocs)
	if r.Raw != nil {
		fmt.Fprintf(w, "  raw Cosmos   %d creates in %.2f s with %d clients: %.0f creates/s (in-memory emulator, this process)", r.Raw.Items, r.Raw.Seconds, r.Raw.Clients, r.Raw.PerSec)
		if r.RawRatio > 0 {
			fmt.Fprintf(w, "; end to end / raw = %.3f", r.RawRatio)
		}
		fmt.Fprintln(w)
	}
	for _, p := range r.Profiles {
		fmt.Fprintf(w, "  profile      %s\n", p)
	}
}

func (r *report) printEndToEnd(w io.Writer) {
	e, b := r.EndToEnd, r.Backlog
	fmt.Fprintf(w, "  end to end   %6d final (%d fulfilled, %d cancelled, %d not final) in %.2f s: %7.1f orders/s (peak %d in 1 s)   placed→final p50 %6.1f ms  p99 %6.1f ms\n",
		e.Final, e.Fulfilled, e.Cancelled, e.NotFinal, e.Seconds, e.PerSec, e.PeakPerS, e.P50ms, e.P99ms)
	fmt.Fprintf(w, "  backlog      largest %d orders at %.1f s; drained %.2f s after the load stopped (last final event); published everything %.2f s after (drained: %v)\n",
		b.Max, b.MaxAtS, b.DrainS, b.PublishedS, b.Drained)
}

func (r *report) printRU(w io.Writer) {
	if len(r.RU) == 0 {
		fmt.Fprintln(w, "  request units: not collected (-ru=false, or -base: the handler's log is not ours)")
		return
	}
	fmt.Fprintln(w, "  request units by function (sum of x-ms-request-charge the handler logged; the host's own from the emulator's totals):")
	total, scope := 0.0, "the handler's RU only: the host's change feed and lease requests are not included"
	for _, s := range r.RU {
		if s.Function == hostFunction {
			scope = "the handler's RU and the host's change feed and lease requests"
		}
		fmt.Fprintf(w, "    %-16s %7d invocations %11.1f RU  %7.2f RU/order\n", s.Function, s.Invocations, s.RU, s.PerOrder)
		total += s.PerOrder
	}
	fmt.Fprintf(w, "    %-16s %38s %7.2f RU/order\n", "total", "", total)
	what := "orders"
	if len(r.Disabled) > 0 {
		what = "checkouts (only: -checkout-only)"
	}
	fmt.Fprintf(w, "  serverless Cosmos DB cost of 1,000,000 %s: $%.2f at $%.2f per million RU (%s, as of %s; %s)\n",
		what, millionOrdersCost(total), serverlessUSDPerMillionRU, serverlessPriceSource, serverlessPriceRead, scope)
}

// The public price of serverless Azure Cosmos DB (NoSQL API, single
// region): what a million request units cost, $0.25, from the Azure Cosmos
// DB pricing page (serverless) named below, as of the date below. The page
// itself was not in the documentation index searched on that date, which
// only confirms, at
// https://learn.microsoft.com/azure/cosmos-db/how-pricing-works, that
// serverless bills the RU consumed: check it before quoting the cost.
const (
	serverlessUSDPerMillionRU = 0.25
	serverlessPriceSource     = "https://azure.microsoft.com/pricing/details/cosmos-db/serverless/"
	serverlessPriceRead       = "2026-12-01"
)

// millionOrdersCost is what a million orders cost in USD on serverless
// Cosmos DB at ruPerOrder request units each: a million orders use
// ruPerOrder million RU.
func millionOrdersCost(ruPerOrder float64) float64 {
	return ruPerOrder * serverlessUSDPerMillionRU
}

// write puts report.json, load.csv and load.svg into dir.
func (r *report) write(dir string, out io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	j, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	files := map[string][]byte{"report.json": append(j, '\n'), "load.csv": csvOf(r.Series), "load.svg": svgOf(r.Series, r.Load)}
	var names []string
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
		names = append(names, filepath.Join(dir, name))
	}
	sort.Strings(names)
	fmt.Fprintf(out, "  wrote        %s\n", strings.Join(names, ", "))
	return nil
}
