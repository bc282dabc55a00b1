package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBenchPrintsEveryFigure(t *testing.T) {
	var out strings.Builder
	err := realMain(context.Background(), []string{"-clients", "2", "-duration", "50ms"}, &out)
	require.NoError(t, err)
	for _, want := range []string{"memory   create", "memory   read", "memory   change feed", "durable  create", "durable  read", "durable  change feed"} {
		assert.Contains(t, out.String(), want)
	}
}
