package repo

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRootIsWhereGoModIs(t *testing.T) {
	root, err := Root()
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(root, "go.mod"))
	assert.FileExists(t, filepath.Join(root, "internal", "repo", "repo.go"))
}

func TestRootOutsideAModuleFails(t *testing.T) {
	t.Chdir(os.TempDir())
	_, err := Root()
	assert.ErrorContains(t, err, "no go.mod")
}
