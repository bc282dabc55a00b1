package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var ansi = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// makeDry prints what `make target` would run at the repo root, running
// nothing (make -n).
func makeDry(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("make", append([]string{"-n", "-C", "../.."}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	return string(out)
}

func TestMakeRunPassesLogLevelOn(t *testing.T) {
	out := makeDry(t, []string{"LOG_LEVEL=debug"}, "run")
	assert.Contains(t, out, "-log-level debug", "LOG_LEVEL=debug make run reaches the handler")
	assert.Contains(t, makeDry(t, nil, "run", "LOG_LEVEL=error"), "-log-level error")
}

// TestMakeRunInstallsOnlyWhatItRuns: the Bicep check's npm packages and
// `go mod download` (every module, test-only ones too) are for make test.
func TestMakeRunInstallsOnlyWhatItRuns(t *testing.T) {
	run := makeDry(t, nil, "-B", "run")
	assert.NotContains(t, run, "infra/check")
	assert.NotContains(t, run, "mod download")
	assert.Contains(t, run, "npm --prefix emulators/servicebus ci")
	test := makeDry(t, nil, "-B", "test")
	assert.Contains(t, test, "npm --prefix infra/check ci")
	assert.Contains(t, test, "mod download")
}

// TestMakeBenchABBuildsBaseInItsOwnTree: BASE is checked out and built in
// a worktree, bench-load alternates it with this tree, and the worktree
// goes away however the comparison ended.
func TestMakeBenchABBuildsBaseInItsOwnTree(t *testing.T) {
	out := makeDry(t, nil, "-B", "bench-ab", "BASE=v1.2", "PAIRS=5", "ARGS=-orders 100")
	assert.Contains(t, out, "git worktree add --detach dist/bench-ab/base v1.2")
	assert.Contains(t, out, "make -C dist/bench-ab/base build APP=dist/app")
	assert.Contains(t, out, "-vs dist/bench-ab/base -pairs 5 -out dist/bench-ab -orders 100")
	assert.Contains(t, out, "git worktree remove --force dist/bench-ab/base")
	assert.Contains(t, makeDry(t, nil, "-B", "bench-ab"), "git worktree add --detach dist/bench-ab/base HEAD", "BASE defaults to HEAD")
}

func TestMakeReset(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	require.NoError(t, os.MkdirAll(filepath.Join(data, "cosmos"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(data, "cosmos", "db"), []byte("x"), 0o644))
	out, err := exec.Command("make", "-s", "-C", "../..", "reset", "DATA="+data).CombinedOutput()
	require.NoError(t, err, string(out))
	assert.NoDirExists(t, data)

	for _, bad := range []string{"/", "."} {
		out, err := exec.Command("make", "-s", "-C", "../..", "reset", "DATA="+bad).CombinedOutput()
		assert.Error(t, err, bad)
		assert.Contains(t, string(out), "refusing", bad)
	}
}

func TestMakeHelpListsEveryTarget(t *testing.T) {
	out, err := exec.Command("make", "-s", "-C", "../..", "help").CombinedOutput()
	require.NoError(t, err)
	listed := map[string]bool{}
	for _, line := range strings.Split(ansi.ReplaceAllString(string(out), ""), "\n") {
		if f := strings.Fields(line); len(f) > 1 {
			listed[f[0]] = true
		}
	}
	for _, target := range []string{"run", "reset", "deps-run", "deps", "test", "fuzz", "bench-load", "bench-ab"} {
		assert.True(t, listed[target], "make help lists %s", target)
	}
}
