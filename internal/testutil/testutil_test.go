package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRepoRootHoldsTheModule(t *testing.T) {
	root := RepoRoot(t)
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "module github.com/ordersflow/orderpipeline\n"; string(mod[:len(want)]) != want {
		t.Fatalf("go.mod at %s starts %q", root, mod[:len(want)])
	}
}

func TestFindRepoRootFailsOutsideAModule(t *testing.T) {
	t.Chdir(t.TempDir())
	if root, err := FindRepoRoot(); err == nil {
		t.Fatalf("found %s in a temporary directory", root)
	}
}
