// Package testutil holds small helpers for the repository's tests. Only
// tests import it.
package testutil

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// FindRepoRoot walks up from the working directory (a test's package
// directory) to the directory holding go.mod.
func FindRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repo root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find repo root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// RepoRoot is FindRepoRoot for a test, which it fails if there is none.
func RepoRoot(t testing.TB) string {
	t.Helper()
	root, err := FindRepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}
