package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMakeChaosPassesOrders(t *testing.T) {
	out, err := exec.Command("make", "-n", "-C", "../..", "chaos", "ORDERS=500").CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), "go run ./cmd/chaos -app dist/app -devstack dist/devstack -orders 500")
	out, err = exec.Command("make", "-n", "-C", "../..", "chaos").CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), "-orders 10000", "10,000 orders by default")
}

func TestNoDevstackIsAnError(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	err := realMain(context.Background(), []string{"-orders", "10", "-devstack", filepath.Join(dir, "missing"),
		"-app", dir, "-data", filepath.Join(dir, "data")}, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing")
	assert.Error(t, realMain(context.Background(), []string{"-orders", "x"}, &out), "a bad flag")
}
