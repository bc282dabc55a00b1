package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/servicebus/sbemu"
)

// The pipeline pattern publishes every event of every order to both
// subscriptions (checkDelivered), in memory and on a data directory.
func TestPipelinePatternDeliversEveryEvent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := config{orders: 20, clients: 4, events: 3, perPublish: 3}
	require.NoError(t, measurePipeline(ctx, cfg, "memory", nil))
	require.NoError(t, measurePipeline(ctx, cfg, "durable", []sbemu.Option{sbemu.WithDataDir(t.TempDir())}))
}

func TestCheckDeliveredCountsEachSubscription(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	root, err := sbemu.RepoRoot()
	require.NoError(t, err)
	emu, err := sbemu.Start(ctx, root, root+"/emulators/servicebus/config/orderpipeline.json", nil, sbemu.WithFaultControl())
	require.NoError(t, err)
	defer emu.Stop()
	require.ErrorContains(t, checkDelivered(ctx, emu, 1), "holds 0 messages, want 1")
}
