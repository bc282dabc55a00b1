package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRealMainReportsStartupErrors(t *testing.T) {
	err := realMain(context.Background(), []string{"-script-root", t.TempDir(), "-addr", "127.0.0.1:0"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "host.json")
}

func TestRealMainRejectsUnknownFlags(t *testing.T) {
	assert.Error(t, realMain(context.Background(), []string{"-nope"}))
}

// TestRealMainTakesARelativeScriptRoot: `go run ./cmd/funchost -script-root
// dist/app` resolves the root against the working directory before the
// host uses it.
func TestRealMainTakesARelativeScriptRoot(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	require.NoError(t, os.MkdirAll(filepath.Join("dist", "app"), 0o755))
	err := realMain(context.Background(), []string{"-script-root", "dist/app", "-addr", "127.0.0.1:0"})
	require.Error(t, err, "no host.json there")
	wd, err2 := os.Getwd()
	require.NoError(t, err2)
	assert.Contains(t, err.Error(), filepath.Join(wd, "dist", "app")+":", "the host was given the absolute root")
}

func TestRealMainRejectsABadLeaseExpiration(t *testing.T) {
	err := realMain(context.Background(), []string{"-lease-expiration", "soon", "-instance", "host-1"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "lease-expiration")
}
