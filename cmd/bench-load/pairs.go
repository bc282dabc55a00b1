package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// With -vs, bench-load runs the same load on two builds in turn, each run
// on a fresh stack, and compares them pair by pair. The machines this
// project is measured on are shared: within an hour the emulator's raw
// create rate, measured after each run, moved between 9,613/s and
// 18,421/s, often from one run to the next, so two figures taken at
// different times say little about two builds. A ratio taken within one pair, from runs a few seconds apart,
// says much more; the median of several says more still. The pairs
// alternate which build goes first (A B, B A, A B …), so a machine that
// speeds up or slows down during the comparison favours neither.

// build is one side of a comparison.
type build struct {
	label         string // "A" or "B"
	tree          string // where devstack runs, and so which emulators it starts
	app, devstack string
}

// pairRun is one run of a comparison.
type pairRun struct {
	Pair   int     `json:"pair"`
	Build  string  `json:"build"`
	Report *report `json:"report"`
}

// comparison is what -vs writes to pairs.json.
type comparison struct {
	BuildA  string     `json:"a"`
	BuildB  string     `json:"b"`
	Runs    []pairRun  `json:"runs"`
	Figures []ratioRow `json:"figures"`
}

// ratioRow is one figure of every run and its B/A ratio in each pair.
type ratioRow struct {
	Figure string    `json:"figure"`
	A      []float64 `json:"a"`
	B      []float64 `json:"b"`
	Ratios []float64 `json:"bOverA"`
	Median float64   `json:"medianBOverA"`
}

// figure is a number a comparison reads off a report; ok is false when
// the run has no such figure (no end to end with -checkout-only).
type figure struct {
	name string
	of   func(r *report) (v float64, ok bool)
}

var figures = []figure{
	{"checkout, orders/s", func(r *report) (float64, bool) { return r.Checkout.PerSec, r.Checkout.Accepted > 0 }},
	{"checkout p99, ms", func(r *report) (float64, bool) { return r.Checkout.P99ms, r.Checkout.Accepted > 0 }},
	{"end to end, orders/s", func(r *report) (float64, bool) { return r.EndToEnd.PerSec, r.EndToEnd.Final > 0 }},
	{"placed→final p99, ms", func(r *report) (float64, bool) { return r.EndToEnd.P99ms, r.EndToEnd.Final > 0 }},
	{"drained after the load, s", func(r *report) (float64, bool) { return r.Backlog.DrainS, r.EndToEnd.Final > 0 }},
	{"CPU per order, every process, ms", func(r *report) (float64, bool) {
		sum := 0.0
		for _, c := range r.CPU {
			sum += c.MsPerOrder
		}
		return sum, len(r.CPU) > 0
	}},
	{"CPU per order, devstack, ms", cpuOf("devstack")},
	{"CPU per order, handler, ms", cpuOf("handler")},
	{"CPU per order, Service Bus emulator, ms", cpuOf("servicebus")},
	{"read/write calls per order, every process", func(r *report) (float64, bool) {
		sum := 0.0
		for _, c := range r.CPU {
			sum += c.CallsPerOrder
		}
		return sum, sum > 0
	}},
	{"read/write calls per order, devstack", callsOf("devstack")},
	{"read/write calls per order, handler", callsOf("handler")},
	{"raw creates/s", func(r *report) (float64, bool) {
		if r.Raw == nil {
			return 0, false
		}
		return r.Raw.PerSec, true
	}},
	{"checkout / raw", func(r *report) (float64, bool) {
		if r.Raw == nil || r.Raw.PerSec == 0 {
			return 0, false
		}
		return r.Checkout.PerSec / r.Raw.PerSec, r.Checkout.Accepted > 0
	}},
	{"end to end / raw", func(r *report) (float64, bool) { return r.RawRatio, r.RawRatio > 0 }},
}

// ofProcess reads v of the process whose name starts with name (a row of
// the report's CPU table); a zero figure is not known.
func ofProcess(name string, v func(cpuRow) float64) func(r *report) (float64, bool) {
	return func(r *report) (float64, bool) {
		for _, c := range r.CPU {
			if strings.HasPrefix(c.Process, name) {
				return v(c), v(c) > 0
			}
		}
		return 0, false
	}
}

func cpuOf(name string) func(r *report) (float64, bool) {
	return ofProcess(name, func(c cpuRow) float64 { return c.MsPerOrder })
}

func callsOf(name string) func(r *report) (float64, bool) {
	return ofProcess(name, func(c cpuRow) float64 { return c.CallsPerOrder })
}

// buildsOf is the two sides of -vs DIR: A is DIR's dist/app and
// dist/devstack, run in DIR so that its devstack starts DIR's emulators;
// B is the -app and -devstack of this run.
func buildsOf(cfg config) ([2]build, error) {
	tree, err := filepath.Abs(cfg.vs)
	if err != nil {
		return [2]build{}, err
	}
	a := build{label: "A", tree: tree, app: filepath.Join(tree, "dist", "app"), devstack: filepath.Join(tree, "dist", "devstack")}
	b := build{label: "B", app: cfg.app, devstack: cfg.devstack}
	for _, bd := range []build{a, b} {
		for _, p := range []string{bd.app, bd.devstack} {
			if _, err := os.Stat(p); err != nil {
				return [2]build{}, fmt.Errorf("build %s: %w (make bench-ab builds both sides)", bd.label, err)
			}
		}
	}
	return [2]build{a, b}, nil
}

// runPairs runs cfg.pairs pairs of the load, A and B in alternating order,
// and prints each run's line and then the comparison. Each run's progress
// and report go to its own directory under -out.
func runPairs(ctx context.Context, cfg config, out io.Writer) error {
	builds, err := buildsOf(cfg)
	if err != nil {
		return err
	}
	if err := clearPairs(cfg.out); err != nil {
		return err
	}
	cmp := &comparison{BuildA: cfg.vs, BuildB: "this tree (-app " + cfg.app + ", -devstack " + cfg.devstack + ")"}
	fmt.Fprintf(out, "bench-load: %s, %d %s of runs; A = %s, B = %s\n", describeLoad(cfg), cfg.pairs, plural(cfg.pairs, "pair", "pairs"), cmp.BuildA, cmp.BuildB)
	for pair := 1; pair <= cfg.pairs; pair++ {
		order := builds
		if pair%2 == 0 {
			order = [2]build{builds[1], builds[0]}
		}
		for _, bd := range order {
			rep, err := runOnce(ctx, cfg, bd, pair)
			if err != nil {
				return fmt.Errorf("pair %d, build %s: %w", pair, bd.label, err)
			}
			cmp.Runs = append(cmp.Runs, pairRun{Pair: pair, Build: bd.label, Report: rep})
			fmt.Fprintf(out, "  pair %d %s  %s\n", pair, bd.label, brief(rep))
		}
	}
	cmp.Figures = ratios(cmp.Runs)
	printComparison(out, cmp)
	j, err := json.MarshalIndent(cmp, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(cfg.out, "pairs.json")
	if err := os.WriteFile(path, append(j, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(out, "  wrote        %s\n", path)
	return nil
}

// clearPairs removes what an earlier comparison wrote to dir (pairs.json
// and the pair-N-X directories), so that none of it passes for this one's.
func clearPairs(dir string) error {
	old, err := filepath.Glob(filepath.Join(dir, "pair-*-[AB]"))
	if err != nil {
		return err
	}
	for _, p := range append(old, filepath.Join(dir, "pairs.json")) {
		if err := os.RemoveAll(p); err != nil {
			return err
		}
	}
	return nil
}

// runOnce is one run of build bd on a fresh stack, its progress lines and
// report in -out/pair-N-X/.
func runOnce(ctx context.Context, cfg config, bd build, pair int) (*report, error) {
	cfg.app, cfg.devstack, cfg.tree = bd.app, bd.devstack, bd.tree
	dir := filepath.Join(cfg.out, fmt.Sprintf("pair-%d-%s", pair, bd.label))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "bench-load.txt"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	st, cleanup, err := openStack(ctx, cfg)
	if err != nil {
		return nil, err
	}
	rep, runErr := run(ctx, cfg, st, logf)
	if err := errors.Join(runErr, cleanup()); err != nil {
		return nil, err
	}
	rep.print(logf)
	return rep, rep.write(dir, logf)
}

// brief is a run in one line.
func brief(r *report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "checkout %7.1f orders/s", r.Checkout.PerSec)
	if r.EndToEnd.Final > 0 {
		fmt.Fprintf(&b, "   end to end %6.1f orders/s, drained %.2f s", r.EndToEnd.PerSec, r.Backlog.DrainS)
	}
	if r.Raw != nil {
		fmt.Fprintf(&b, "   raw %6.0f creates/s", r.Raw.PerSec)
	}
	return b.String()
}

// ratios lines up every figure the runs have, A and B by pair, with the
// ratio B/A of each pair and their median.
func ratios(runs []pairRun) []ratioRow {
	var rows []ratioRow
	for _, f := range figures {
		row := ratioRow{Figure: f.name}
		byPair := map[int]*[2]float64{}
		var pairs []int
		complete := true
		for _, pr := range runs {
			v, ok := f.of(pr.Report)
			if !ok {
				complete = false
				break
			}
			p := byPair[pr.Pair]
			if p == nil {
				p = &[2]float64{math.NaN(), math.NaN()}
				byPair[pr.Pair] = p
				pairs = append(pairs, pr.Pair)
			}
			side := 0
			if pr.Build == "B" {
				side = 1
			}
			p[side] = v
		}
		if !complete {
			continue
		}
		for _, n := range pairs {
			p := byPair[n]
			row.A, row.B = append(row.A, p[0]), append(row.B, p[1])
			if p[0] != 0 && !math.IsNaN(p[0]) && !math.IsNaN(p[1]) {
				row.Ratios = append(row.Ratios, p[1]/p[0])
			}
		}
		if len(row.Ratios) == 0 {
			continue // A was 0 in every pair (node's CPU with -checkout-only): no ratio to take
		}
		row.Median = median(row.Ratios)
		rows = append(rows, row)
	}
	return rows
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(v))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func printComparison(w io.Writer, c *comparison) {
	fmt.Fprintf(w, "\nbench-load comparison: B/A pair by pair (A = %s)\n", c.BuildA)
	for _, r := range c.Figures {
		fmt.Fprintf(w, "  %-41s A %s   B %s   B/A %s   median %.3f\n", r.Figure, join(r.A, num), join(r.B, num), join(r.Ratios, ratio), r.Median)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// num prints a figure with the digits that matter: 14977, 517.2, 0.0331.
func num(x float64) string {
	switch a := math.Abs(x); {
	case a >= 1000:
		return fmt.Sprintf("%.0f", x)
	case a >= 10:
		return fmt.Sprintf("%.1f", x)
	}
	return fmt.Sprintf("%.3g", x)
}

func ratio(x float64) string { return fmt.Sprintf("%.3f", x) }

func join(v []float64, format func(float64) string) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = format(x)
	}
	return strings.Join(s, " ")
}
