package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/cmd/internal/cosmosload"
)

// TestMain lets startOurs re-run this test binary as the emulator process.
func TestMain(m *testing.M) {
	if len(os.Args) == 2 && os.Args[1] == serveFlag {
		if err := serveMemory(); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestCompareRoundsAlternateAndPrintTheRatio runs the comparison with our
// emulator in both seats (cosmium is not downloaded in tests): each seat is
// its own process, every round measures both, and the ratio is printed.
func TestCompareRoundsAlternateAndPrintTheRatio(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var servers []*server
	var loads []*cosmosload.Load
	for _, name := range []string{"ours", "cosmium"} {
		s, err := startOurs()
		require.NoError(t, err)
		t.Cleanup(s.stop)
		s.name = name
		l, err := cosmosload.New(ctx, s.conn, 2, nil)
		require.NoError(t, err)
		servers, loads = append(servers, s), append(loads, l)
	}
	require.NotEqual(t, servers[0].cmd.Process.Pid, servers[1].cmd.Process.Pid)
	var out strings.Builder
	require.NoError(t, runRounds(ctx, config{clients: 2, duration: 50 * time.Millisecond, rounds: 2}, servers, loads, &out))
	for _, want := range []string{"ours       1 ", "cosmium    1 ", "ours       2 ", "cosmium    2 ", "ours       all", "cosmium    all", "ours / cosmium: "} {
		assert.Contains(t, out.String(), want)
	}
}

func TestSeatsRotateEveryRound(t *testing.T) {
	assert.Equal(t, []int{0, 1}, seats(1, 2))
	assert.Equal(t, []int{1, 0}, seats(2, 2))
	assert.Equal(t, []int{0, 1}, seats(3, 2))
	assert.Equal(t, []int{2, 0, 1}, seats(3, 3))
}

func TestStartCosmiumSaysHowToBuildIt(t *testing.T) {
	_, err := startCosmium(context.Background(), t.TempDir()+"/no-cosmium")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "build-cosmium.sh")
}
