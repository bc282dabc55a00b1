package main

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"
)

// point is one second of the run (bucket [T, T+1) s after the load began;
// backlog as at its end).
type point struct {
	T             int
	Placed        int // checkouts accepted that began in this second
	Final         int // orders whose final event is in this second
	CheckoutP50   float64
	CheckoutP99   float64
	E2EP50        float64 // placed→final of the orders final in this second
	E2EP99        float64
	Waiting       [numStages]int
	UnreadPublish int // writes to the orders container PublishEvents had not checkpointed (live sample)
}

func (p point) backlog() int {
	n := 0
	for _, w := range p.Waiting {
		n += w
	}
	return n
}

func series(m *measurement, accepted map[string]bool) []point {
	end := m.drained
	for id := range accepted {
		if evs := m.events[id]; len(evs) > 0 && evs[len(evs)-1].at.After(end) {
			end = evs[len(evs)-1].at
		}
	}
	n := int(math.Ceil(end.Sub(m.begin).Seconds()))
	pts := make([]point, max(n, 1))
	checkoutLat := make([][]time.Duration, len(pts))
	e2eLat := make([][]time.Duration, len(pts))
	bucket := func(t time.Time) int { return min(max(int(t.Sub(m.begin)/time.Second), 0), len(pts)-1) }
	for _, c := range m.checkouts {
		if c.status == http.StatusAccepted {
			i := bucket(c.start)
			pts[i].Placed++
			checkoutLat[i] = append(checkoutLat[i], c.latency)
		}
	}
	for id := range accepted {
		addOrder(pts, m.begin, m.events[id], bucket, e2eLat)
	}
	for i := range pts {
		pts[i].T = i
		pts[i].CheckoutP50, pts[i].CheckoutP99 = pctOrNaN(checkoutLat[i], 0.5), pctOrNaN(checkoutLat[i], 0.99)
		pts[i].E2EP50, pts[i].E2EP99 = pctOrNaN(e2eLat[i], 0.5), pctOrNaN(e2eLat[i], 0.99)
	}
	for _, s := range m.samples {
		pts[bucket(s.at.Add(-time.Millisecond))].UnreadPublish = s.prog.unread["publish-"]
	}
	return pts
}

// pctOrNaN is pct, or NaN (no sample: a gap in the chart, empty in the CSV).
func pctOrNaN(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return math.NaN()
	}
	return pct(d, p)
}

// addOrder counts one order's final second and, at the end of every
// second, the stage it was waiting in.
func addOrder(pts []point, begin time.Time, evs []trackedEvent, bucket func(time.Time) int, e2eLat [][]time.Duration) {
	if len(evs) == 0 {
		return
	}
	last := evs[len(evs)-1]
	if isFinal(last.typ) {
		i := bucket(last.at)
		pts[i].Final++
		e2eLat[i] = append(e2eLat[i], last.at.Sub(evs[0].at))
	}
	for k := range pts {
		t := begin.Add(time.Duration(k+1) * time.Second)
		if w, ok := waitingAt(evs, t); ok {
			pts[k].Waiting[w]++
		}
	}
}

// waitingAt is the stage an order waits in at t, if it is placed and not
// final then.
func waitingAt(evs []trackedEvent, t time.Time) (stage, bool) {
	var cur *trackedEvent
	for i := range evs {
		if evs[i].at.After(t) {
			break
		}
		cur = &evs[i]
	}
	if cur == nil || isFinal(cur.typ) {
		return 0, false
	}
	return stageAfter(cur.typ), true
}

func csvOf(pts []point) []byte {
	var b bytes.Buffer
	b.WriteString("second,placed,final,checkout_p50_ms,checkout_p99_ms,placed_to_final_p50_ms,placed_to_final_p99_ms,backlog")
	for i := range numStages {
		b.WriteString(",waiting_" + stageNames[i])
	}
	b.WriteString(",publish_unread_writes\n")
	for _, p := range pts {
		fmt.Fprintf(&b, "%d,%d,%d,%s,%s,%s,%s,%d", p.T, p.Placed, p.Final, msField(p.CheckoutP50), msField(p.CheckoutP99),
			msField(p.E2EP50), msField(p.E2EP99), p.backlog())
		for _, w := range p.Waiting {
			fmt.Fprintf(&b, ",%d", w)
		}
		fmt.Fprintf(&b, ",%d\n", p.UnreadPublish)
	}
	return b.Bytes()
}

func msField(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return fmt.Sprintf("%.1f", v)
}

// plot is one plotted series.
type plot struct {
	name, color string
	values      []float64
}

const (
	svgWidth   = 960
	panelH     = 220
	marginL    = 70
	marginR    = 170
	marginT    = 34
	plotW      = svgWidth - marginL - marginR
	plotH      = panelH - 50
	gridLines  = 4
	svgPalette = "#1f77b4,#d62728,#2ca02c,#ff7f0e,#9467bd,#8c564b,#7f7f7f"
)

// svgOf draws throughput, latency and backlog, one panel each, over time.
func svgOf(pts []point, title string) []byte {
	col := func(f func(point) float64) []float64 {
		v := make([]float64, len(pts))
		for i, p := range pts {
			v[i] = f(p)
		}
		return v
	}
	c := strings.Split(svgPalette, ",")
	panels := []struct {
		title string
		lines []plot
	}{
		{"throughput (orders/s)", []plot{
			{"checkout accepted", c[0], col(func(p point) float64 { return float64(p.Placed) })},
			{"brought to final", c[1], col(func(p point) float64 { return float64(p.Final) })}}},
		{"checkout latency (ms, by the second it was sent)", []plot{
			{"p50", c[0], col(func(p point) float64 { return p.CheckoutP50 })},
			{"p99", c[4], col(func(p point) float64 { return p.CheckoutP99 })}}},
		{"placed→final latency (ms, by the second the order became final)", []plot{
			{"p50", c[2], col(func(p point) float64 { return p.E2EP50 })},
			{"p99", c[1], col(func(p point) float64 { return p.E2EP99 })}}},
		{"backlog (orders waiting, at the end of each second)", backlogLines(pts, c, col)},
	}
	var b bytes.Buffer
	h := marginT + len(panels)*panelH + 20
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", svgWidth, h, svgWidth, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/><text x="%d" y="20" font-size="14" font-weight="bold">bench-load: %s</text>`+"\n", marginL, esc(title))
	for i, p := range panels {
		panel(&b, marginT+i*panelH, p.title, p.lines, len(pts))
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

func backlogLines(pts []point, c []string, col func(func(point) float64) []float64) []plot {
	out := []plot{{"total", c[6], col(func(p point) float64 { return float64(p.backlog()) })}}
	for s := range numStages {
		if s == waitCancel {
			continue
		}
		out = append(out, plot{"waiting " + stageNames[s], c[s], col(func(p point) float64 { return float64(p.Waiting[s]) })})
	}
	return out
}

func panel(b *bytes.Buffer, top int, title string, lines []plot, n int) {
	ymax := 0.0
	for _, l := range lines {
		for _, v := range l.values {
			if !math.IsNaN(v) {
				ymax = math.Max(ymax, v)
			}
		}
	}
	ymax = niceCeil(ymax)
	y0 := top + 20
	fmt.Fprintf(b, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", marginL, top+12, esc(title))
	for g := 0; g <= gridLines; g++ {
		y := y0 + plotH - g*plotH/gridLines
		fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#ddd"/><text x="%d" y="%d" text-anchor="end">%s</text>`+"\n",
			marginL, y, marginL+plotW, y, marginL-6, y+4, label(ymax*float64(g)/gridLines))
	}
	xs := func(i int) float64 { return marginL + float64(i)*float64(plotW)/float64(max(n-1, 1)) }
	step := max(1, n/10)
	for i := 0; i < n; i += step {
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%ds</text>`+"\n", xs(i), y0+plotH+14, i)
	}
	for k, l := range lines {
		var pts []string
		for i, v := range l.values {
			if !math.IsNaN(v) {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", xs(i), float64(y0+plotH)-v/ymax*plotH))
			}
		}
		fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1.6" points="%s"/>`+"\n", l.color, strings.Join(pts, " "))
		ly := y0 + 10 + k*16
		fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"/><text x="%d" y="%d">%s</text>`+"\n",
			marginL+plotW+12, ly, marginL+plotW+30, ly, l.color, marginL+plotW+36, ly+4, esc(l.name))
	}
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (1 at least).
func niceCeil(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func label(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
