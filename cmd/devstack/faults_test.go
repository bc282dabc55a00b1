package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
)

func TestReadFaults(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "faults.json")
	require.NoError(t, os.WriteFile(good, []byte(`[{"op":"write","container":"orders","status":429,"rate":0.2},{"latency":"50ms","for":"1m"}]`), 0o600))
	faults, err := readFaults(good)
	require.NoError(t, err)
	assert.Equal(t, []cosmos.Fault{
		{Op: cosmos.OpWrite, Container: "orders", Status: 429, Rate: 0.2},
		{Latency: cosmos.Duration(50 * time.Millisecond), For: cosmos.Duration(time.Minute)},
	}, faults)

	none, err := readFaults("")
	require.NoError(t, err)
	assert.Nil(t, none)

	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"op":"write"}`), 0o600))
	_, err = readFaults(bad)
	assert.Error(t, err, "an object, not an array")
	_, err = readFaults(filepath.Join(dir, "missing.json"))
	assert.Error(t, err)
}
