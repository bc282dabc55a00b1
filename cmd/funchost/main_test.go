package main

import (
	"context"
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

func TestRealMainRejectsABadLeaseExpiration(t *testing.T) {
	err := realMain(context.Background(), []string{"-lease-expiration", "soon", "-instance", "host-1"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "lease-expiration")
}
