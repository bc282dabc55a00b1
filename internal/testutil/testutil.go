// Package testutil holds small helpers for the repository's tests. Only
// tests import it.
package testutil

import (
	"testing"

	"github.com/ordersflow/orderpipeline/internal/repo"
)

// FindRepoRoot walks up from the working directory (a test's package
// directory) to the directory holding go.mod.
func FindRepoRoot() (string, error) { return repo.Root() }

// RepoRoot is FindRepoRoot for a test, which it fails if there is none.
func RepoRoot(t testing.TB) string {
	t.Helper()
	root, err := FindRepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}
