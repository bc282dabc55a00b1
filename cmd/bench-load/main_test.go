package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/servicebus/sbemu"
)

// built is the app and devstack that buildStack staged, once for the
// package's tests; TestMain removes them.
var built struct {
	once          sync.Once
	dir           string
	app, devstack string
	err           error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// buildStack stages the app and builds devstack as make bench-load does,
// once for every test that needs them.
func buildStack(t *testing.T) (app, devstack string) {
	t.Helper()
	built.once.Do(func() { built.app, built.devstack, built.err = stageStack() })
	require.NoError(t, built.err)
	return built.app, built.devstack
}

func stageStack() (app, devstack string, err error) {
	root, err := sbemu.RepoRoot()
	if err != nil {
		return "", "", err
	}
	if built.dir, err = os.MkdirTemp("", "bench-load-test-"); err != nil {
		return "", "", err
	}
	app, devstack = filepath.Join(built.dir, "app"), filepath.Join(built.dir, "devstack")
	if err := os.MkdirAll(app, 0o755); err != nil {
		return "", "", err
	}
	for _, b := range [][]string{{"-o", filepath.Join(app, "handler"), "./cmd/handler"}, {"-o", devstack, "./cmd/devstack"}} {
		cmd := exec.Command("go", append([]string{"build"}, b...)...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", "", fmt.Errorf("go build %v: %w\n%s", b, err, out)
		}
	}
	if out, err := exec.Command("bash", "-c", fmt.Sprintf("cp %q/host.json %q/ && cp -r %q/functions/* %q/", root, app, root, app)).CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("stage the app: %w\n%s", err, out)
	}
	return app, devstack, nil
}

// TestSmallRunReportsEveryFigure places a few orders on a fresh stack and
// checks that every figure of the report is there and that the counts add
// up. Timings are printed, never asserted.
func TestSmallRunReportsEveryFigure(t *testing.T) {
	profDir := t.TempDir()
	r, outDir, out := benchRun(t, 4*time.Minute, "-orders", "24", "-clients", "4", "-declined", "0.25",
		"-raw-clients", "2", "-raw-duration", "100ms", "-pprof-dir", profDir, "-pprof-seconds", "1")
	assert.Equal(t, 24, r.Checkout.Sent)
	assert.Equal(t, 24, r.Checkout.Accepted)
	assert.Equal(t, r.Checkout.Accepted, r.EndToEnd.Final+r.EndToEnd.NotFinal)
	assert.Equal(t, 0, r.EndToEnd.NotFinal, "the backlog drained")
	assert.Equal(t, r.EndToEnd.Final, r.EndToEnd.Fulfilled+r.EndToEnd.Cancelled)
	assert.True(t, r.Backlog.Drained)
	assert.LessOrEqual(t, r.Backlog.Max, r.Checkout.Accepted)
	assert.Positive(t, r.Backlog.Max)

	names := map[string]int{}
	for _, p := range r.CPU {
		names[p.Process] = p.PID
	}
	for _, want := range []string{"devstack (Cosmos emulator + host)", "handler", "servicebus emulator (node)", "bench-load (this process)"} {
		assert.Positive(t, names[want], "pid of %s in %v", want, names)
	}
	fns := map[string]ruRow{}
	for _, s := range r.RU {
		fns[s.Function] = s
	}
	for _, fn := range []string{"Checkout", "ApplyTax", "ProcessPayment", "FulfilOrder", "PublishEvents"} {
		assert.Positive(t, fns[fn].Invocations, "%s in %v", fn, r.RU)
	}
	assert.Positive(t, fns[hostFunction].RU, "the host's change feed and lease requests, from the emulator's totals")
	assert.Equal(t, 24, fns["Checkout"].Invocations)
	assert.Positive(t, fns["Checkout"].RU)
	assert.Equal(t, 24*4, r.FeedDocs["event"], "OrderPlaced, TaxApplied and two more events per order")
	require.NotNil(t, r.Raw)
	assert.Positive(t, r.Raw.Items)

	assertSeriesFiles(t, outDir, r)
	assertProfiles(t, profDir)
	for _, want := range []string{"bench-load report", "checkout ", "end to end ", "backlog ", "CPU per order", "request units by function", "serverless Cosmos DB cost of 1,000,000 orders: $", "raw Cosmos "} {
		assert.Contains(t, out, want)
	}
}

// TestCheckoutOnlyLeavesEveryOrderPlaced runs checkout with the change
// feed functions disabled: every order is accepted and none moves on.
func TestCheckoutOnlyLeavesEveryOrderPlaced(t *testing.T) {
	r, _, out := benchRun(t, 3*time.Minute, "-checkout-only", "-orders", "20", "-clients", "4", "-raw-duration", "0")
	assert.ElementsMatch(t, []string{"ApplyTax", "ProcessPayment", "FulfilOrder", "PublishEvents"}, r.Disabled)
	assert.Equal(t, 20, r.Checkout.Accepted)
	assert.Equal(t, 0, r.EndToEnd.Final, "no order moved past Placed")
	assert.Equal(t, 20, r.FeedDocs["event"], "only OrderPlaced was written")
	fns := map[string]bool{}
	for _, s := range r.RU {
		fns[s.Function] = true
	}
	assert.True(t, fns["Checkout"])
	assert.False(t, fns["ApplyTax"], "ApplyTax never ran: %v", r.RU)
	assert.Contains(t, out, "end to end   not measured: -checkout-only disabled")
	assert.Contains(t, out, "cost of 1,000,000 checkouts (only: -checkout-only)")
}

// TestStagesThatYieldStillFinishEveryOrder runs a few orders with the
// stages giving way at one checkout in flight: every order still ends
// final, none lost to a stage that waited.
func TestStagesThatYieldStillFinishEveryOrder(t *testing.T) {
	r, _, _ := benchRun(t, 3*time.Minute, "-yield-checkouts", "1", "-orders", "24", "-clients", "8",
		"-declined", "0.25", "-raw-duration", "0")
	assert.Contains(t, r.Load, "STAGE_YIELD_CHECKOUTS=1")
	assert.Equal(t, 24, r.Checkout.Accepted)
	assert.Equal(t, 24, r.EndToEnd.Final, "every order reached Fulfilled or Cancelled")
	assert.Positive(t, r.EndToEnd.Cancelled, "tok_declined orders were cancelled")
	assert.True(t, r.Backlog.Drained)
	assert.Equal(t, 24*4, r.FeedDocs["event"])
}

func TestFeedFunctionsAreTheTriggeredOnes(t *testing.T) {
	root, err := sbemu.RepoRoot()
	require.NoError(t, err)
	fns, err := feedFunctions(filepath.Join(root, "functions"))
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"ApplyTax", "ProcessPayment", "FulfilOrder", "PublishEvents"}, fns)
	_, err = feedFunctions(t.TempDir())
	assert.ErrorContains(t, err, "no function")
}

// readReport reads the report.json a run wrote into dir.
// benchRun runs bench-load with args on a fresh stack (buildStack's), its
// report in a temporary directory, and returns the report, that directory
// and what it printed.
func benchRun(t *testing.T, timeout time.Duration, args ...string) (r report, outDir, out string) {
	t.Helper()
	app, devstack := buildStack(t)
	outDir = t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var printed strings.Builder
	err := realMain(ctx, append([]string{"-app", app, "-devstack", devstack, "-out", outDir}, args...), &printed)
	require.NoError(t, err, printed.String())
	t.Log(printed.String())
	return readReport(t, outDir), outDir, printed.String()
}

func readReport(t *testing.T, dir string) report {
	t.Helper()
	var r report
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &r))
	return r
}

// assertProfiles checks that every process of the stack was profiled: the
// devstack process and the handler over pprof, node when it stopped, and
// bench-load itself.
func assertProfiles(t *testing.T, dir string) {
	t.Helper()
	node, err := filepath.Glob(filepath.Join(dir, "servicebus", "*.cpuprofile"))
	require.NoError(t, err)
	require.Len(t, node, 1)
	for _, f := range []string{filepath.Join(dir, "devstack.pprof"), filepath.Join(dir, "handler.pprof"), filepath.Join(dir, "bench-load.pprof"),
		filepath.Join(dir, "devstack.allocs.pprof"), filepath.Join(dir, "handler.allocs.pprof"), node[0]} {
		st, err := os.Stat(f)
		require.NoError(t, err)
		assert.Positive(t, st.Size(), f)
	}
}

// assertSeriesFiles checks the CSV adds up to the report and the SVG draws
// a line for every series.
func assertSeriesFiles(t *testing.T, dir string, r report) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "load.csv"))
	require.NoError(t, err)
	rows := strings.Split(strings.TrimSpace(string(b)), "\n")
	header := strings.Split(rows[0], ",")
	require.Greater(t, len(rows), 1)
	assert.Equal(t, []string{"second", "placed", "final"}, header[:3])
	placed, final := 0, 0
	for _, row := range rows[1:] {
		f := strings.Split(row, ",")
		require.Len(t, f, len(header), row)
		var p, fi int
		_, err := fmt.Sscan(f[1]+" "+f[2], &p, &fi)
		require.NoError(t, err)
		placed, final = placed+p, final+fi
	}
	assert.Equal(t, r.Checkout.Accepted, placed, "placed per second adds up")
	assert.Equal(t, r.EndToEnd.Final, final, "final per second adds up")
	svg, err := os.ReadFile(filepath.Join(dir, "load.svg"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(svg), "<svg "))
	assert.Equal(t, 2+2+2+5, strings.Count(string(svg), "<polyline"))
}
