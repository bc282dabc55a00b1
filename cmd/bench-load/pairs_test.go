package main

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/servicebus/sbemu"
)

func runOf(pair int, side string, checkout, e2e, raw float64) pairRun {
	r := &report{Checkout: checkoutReport{Accepted: 10, PerSec: checkout}, Raw: &rawCreates{PerSec: raw},
		CPU: []cpuRow{{Process: "devstack (Cosmos emulator + host)", MsPerOrder: 1}, {Process: "handler", MsPerOrder: 2},
			{Process: "servicebus emulator (node)", MsPerOrder: 0.5}}}
	if e2e > 0 {
		r.EndToEnd = e2eReport{Final: 10, PerSec: e2e}
		r.RawRatio = e2e / raw
	}
	return pairRun{Pair: pair, Build: side, Report: r}
}

func rowOf(t *testing.T, rows []ratioRow, name string) ratioRow {
	t.Helper()
	for _, r := range rows {
		if r.Figure == name {
			return r
		}
	}
	t.Fatalf("no row %q in %v", name, rows)
	return ratioRow{}
}

func TestRatiosArePairByPairAndTheirMedian(t *testing.T) {
	runs := []pairRun{ // A first, then B first, then A first, as runPairs orders them
		runOf(1, "A", 100, 50, 1000), runOf(1, "B", 110, 60, 1000),
		runOf(2, "B", 300, 90, 3000), runOf(2, "A", 200, 100, 2000),
		runOf(3, "A", 100, 40, 1000), runOf(3, "B", 130, 50, 1000),
	}
	rows := ratios(runs)
	co := rowOf(t, rows, "checkout, orders/s")
	assert.Equal(t, []float64{100, 200, 100}, co.A)
	assert.Equal(t, []float64{110, 300, 130}, co.B)
	assert.InDeltaSlice(t, []float64{1.1, 1.5, 1.3}, co.Ratios, 1e-9, "B/A within each pair, whichever ran first")
	assert.InDelta(t, 1.3, co.Median, 1e-9)
	e2e := rowOf(t, rows, "end to end, orders/s")
	assert.InDeltaSlice(t, []float64{1.2, 0.9, 1.25}, e2e.Ratios, 1e-9)
	assert.InDelta(t, 1.2, e2e.Median, 1e-9)
	cpu := rowOf(t, rows, "CPU per order, every process, ms")
	assert.Equal(t, []float64{3.5, 3.5, 3.5}, cpu.A, "the processes' figures summed")
	assert.Equal(t, []float64{2, 2, 2}, rowOf(t, rows, "CPU per order, handler, ms").B, "one process's own")
	ratio := rowOf(t, rows, "end to end / raw")
	assert.InDelta(t, (90.0/3000)/(100.0/2000), ratio.Ratios[1], 1e-9)
}

func TestARunWithoutAFigureLeavesItsRowOut(t *testing.T) {
	runs := []pairRun{runOf(1, "A", 100, 0, 1000), runOf(1, "B", 120, 0, 1000)} // -checkout-only: no end to end
	rows := ratios(runs)
	for _, r := range rows {
		assert.NotContains(t, r.Figure, "end to end", "no run has it")
	}
	assert.InDelta(t, 1.2, rowOf(t, rows, "checkout / raw").Median, 1e-9)
}

// With -checkout-only node does nothing: its CPU per order is 0 in every
// run, a ratio of nothing. The row is left out, and what is left encodes
// (a NaN median did not).
func TestAFigureThatIsZeroForAEverywhereHasNoRow(t *testing.T) {
	runs := []pairRun{runOf(1, "A", 100, 0, 1000), runOf(1, "B", 120, 0, 1000)}
	for _, r := range runs {
		r.Report.CPU[2].MsPerOrder = 0
	}
	rows := ratios(runs)
	for _, r := range rows {
		assert.NotEqual(t, "CPU per order, Service Bus emulator, ms", r.Figure)
		assert.NotEmpty(t, r.Ratios, r.Figure)
	}
	_, err := json.Marshal(comparison{Runs: runs, Figures: rows})
	assert.NoError(t, err)
}

func TestMedian(t *testing.T) {
	assert.True(t, math.IsNaN(median(nil)))
	assert.InDelta(t, 2.0, median([]float64{3, 1, 2}), 1e-9)
	assert.InDelta(t, 2.5, median([]float64{4, 1, 3, 2}), 1e-9)
}

func TestVsNeedsBothBuilds(t *testing.T) {
	app, devstack := buildStack(t)
	err := realMain(context.Background(), []string{"-app", app, "-devstack", devstack, "-vs", t.TempDir(), "-orders", "1"}, &strings.Builder{})
	assert.ErrorContains(t, err, "build A")
	for _, args := range [][]string{{"-vs", "x", "-pairs", "0"}, {"-vs", "x", "-base", "http://127.0.0.1:1", "-cosmos", "c"}, {"-vs", "x", "-pprof-dir", "p"}} {
		_, err := parseConfig(append(args, "-orders", "1"))
		assert.Error(t, err, "%v", args)
	}
}

// TestVsComparesTwoBuildsOnFreshStacks compares the build with itself,
// one pair of tiny runs: A runs in a tree of its own (its devstack starts
// that tree's emulators), B in this one. Every order of both runs ends
// final and the comparison has a ratio for each figure.
func TestVsComparesTwoBuildsOnFreshStacks(t *testing.T) {
	app, devstack := buildStack(t)
	root, err := sbemu.RepoRoot()
	require.NoError(t, err)
	tree := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(tree, "dist"), 0o755))
	for link, target := range map[string]string{"go.mod": filepath.Join(root, "go.mod"), "emulators": filepath.Join(root, "emulators"),
		"dist/app": app, "dist/devstack": devstack} {
		require.NoError(t, os.Symlink(target, filepath.Join(tree, link)))
	}
	out := t.TempDir()
	stale := filepath.Join(out, "pair-7-B")
	require.NoError(t, os.MkdirAll(stale, 0o755))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var printed strings.Builder
	err = realMain(ctx, []string{"-app", app, "-devstack", devstack, "-vs", tree, "-pairs", "1", "-out", out,
		"-orders", "12", "-clients", "4", "-raw-clients", "2", "-raw-duration", "100ms"}, &printed)
	require.NoError(t, err, printed.String())
	t.Log(printed.String())

	var cmp comparison
	b, err := os.ReadFile(filepath.Join(out, "pairs.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &cmp))
	require.Len(t, cmp.Runs, 2)
	assert.Equal(t, []string{"A", "B"}, []string{cmp.Runs[0].Build, cmp.Runs[1].Build}, "the first pair runs A first")
	for _, r := range cmp.Runs {
		assert.Equal(t, 12, r.Report.Checkout.Accepted, r.Build)
		assert.Equal(t, 12, r.Report.EndToEnd.Final, r.Build)
		assert.FileExists(t, filepath.Join(out, "pair-1-"+r.Build, "report.json"))
		assert.FileExists(t, filepath.Join(out, "pair-1-"+r.Build, "bench-load.txt"))
	}
	rows := map[string]ratioRow{}
	for _, r := range cmp.Figures {
		rows[r.Figure] = r
	}
	for _, f := range figures {
		require.Contains(t, rows, f.name)
		assert.Len(t, rows[f.name].Ratios, 1, f.name)
		assert.Positive(t, rows[f.name].Median, f.name)
	}
	assert.Contains(t, printed.String(), "bench-load comparison: B/A pair by pair")
	assert.NoDirExists(t, stale, "an earlier comparison's runs are cleared")
}
