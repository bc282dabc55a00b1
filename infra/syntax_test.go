package infra

// The Bicep syntax check: node check/bicep-syntax.js (tree-sitter-bicep) over
// every .bicep file under infra/. It needs the pinned npm packages; a missing
// install fails the test rather than skipping it.

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const installHint = "run `npm --prefix infra/check ci` (from the repository root) to install the Bicep syntax checker"

// runSyntaxCheck runs the checker on files (all of infra/ when none) and
// returns its output and exit code.
func runSyntaxCheck(t *testing.T, files ...string) (string, int) {
	t.Helper()
	for _, p := range []string{
		"check/node_modules/web-tree-sitter/package.json",
		"check/node_modules/tree-sitter-bicep/tree-sitter-bicep.wasm",
	} {
		_, err := os.Stat(p)
		require.NoError(t, err, "infra/%s is missing: %s", p, installHint)
	}
	node, err := exec.LookPath("node")
	require.NoError(t, err, "node (20 or later) is needed for the Bicep syntax check")
	out, err := exec.Command(node, append([]string{filepath.Join("check", "bicep-syntax.js")}, files...)...).CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	default:
		require.NoError(t, err)
		return "", -1
	}
}

func TestBicepSyntax(t *testing.T) {
	files, err := bicepFiles(".")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	out, code := runSyntaxCheck(t)
	assert.Equal(t, 0, code, "bicep syntax errors:\n%s", out)
	assert.Contains(t, out, "parse cleanly")
}

func TestBicepSyntaxCatchesBrokenFixture(t *testing.T) {
	out, code := runSyntaxCheck(t, filepath.Join("testdata", "syntax", "broken.bicep"))
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "testdata/syntax/broken.bicep:5:5: syntax error: missing identifier")
	assert.Contains(t, out, "testdata/syntax/broken.bicep:9:13: syntax error: missing }")
}
