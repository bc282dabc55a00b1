package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunsTheCommandWithAzureWebJobsStorage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, realMain(ctx, []string{"-data", "", "--", "sh", "-c", `echo "child sees $AzureWebJobsStorage"`}, &out))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 2, out.String())
	conn := strings.TrimPrefix(lines[0], "AzureWebJobsStorage=")
	assert.Contains(t, conn, "BlobEndpoint=http://127.0.0.1:")
	assert.Equal(t, "child sees "+conn, lines[1])
}

func TestCommandFailureIsReported(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	assert.Error(t, realMain(ctx, []string{"-data", "", "--", "sh", "-c", "exit 3"}, &bytes.Buffer{}))
}
