package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
)

// faults runs "cosmos-emulator faults" against the child and returns stdout.
func (c *child) faults(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out strings.Builder
	err := realMain(context.Background(), append([]string{"faults", "-endpoint", c.endpoint}, args...), &out, io.Discard)
	return out.String(), err
}

func createStatus(t *testing.T, db *azcosmos.DatabaseClient) int {
	t.Helper()
	_, err := db.CreateContainer(testCtx(t), azcosmos.ContainerProperties{ID: "c",
		PartitionKeyDefinition: azcosmos.PartitionKeyDefinition{Paths: []string{"/pk"}}}, nil)
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	require.NoError(t, err)
	return http.StatusCreated
}

func TestFaultsSubcommand(t *testing.T) {
	c := startChild(t, "-addr", "127.0.0.1:0")
	client, err := azcosmos.NewClientFromConnectionString("AccountEndpoint="+c.endpoint+";AccountKey="+cosmos.DefaultKey+";",
		&azcosmos.ClientOptions{ClientOptions: azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}}})
	require.NoError(t, err)
	_, err = client.CreateDatabase(testCtx(t), azcosmos.DatabaseProperties{ID: "db"}, nil)
	require.NoError(t, err)
	db, err := client.NewDatabase("db")
	require.NoError(t, err)

	out, err := c.faults(t, "add", "-op", "metadata", "-status", "429", "-rate", "1", "-retry-after", "20ms")
	require.NoError(t, err)
	var st cosmos.FaultState
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	assert.Equal(t, http.StatusTooManyRequests, st.Status)
	assert.Equal(t, http.StatusTooManyRequests, createStatus(t, db))

	out, err = c.faults(t, "list")
	require.NoError(t, err)
	var list []cosmos.FaultState
	require.NoError(t, json.Unmarshal([]byte(out), &list))
	require.Len(t, list, 1)
	assert.Equal(t, int64(1), list[0].Injected)

	_, err = c.faults(t, "clear")
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, createStatus(t, db))

	out, err = c.faults(t, "split", "-container", "c")
	require.NoError(t, err)
	var split cosmos.FaultState
	require.NoError(t, json.Unmarshal([]byte(out), &split))
	require.Len(t, split.Splits, 1, "the container's one range split")
	assert.Equal(t, "0", split.Splits[0].Parent)
	_, err = c.faults(t, "split", "-container", "c", "-range", "0")
	assert.Error(t, err, "range 0 is gone")

	_, err = c.faults(t, "unavailable", "-for", "1m")
	require.NoError(t, err)
	_, err = client.CreateDatabase(testCtx(t), azcosmos.DatabaseProperties{ID: "db2"}, nil)
	var re *azcore.ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, http.StatusServiceUnavailable, re.StatusCode)
}

func TestFaultsSubcommandRefusesBadInput(t *testing.T) {
	c := startChild(t, "-addr", "127.0.0.1:0")
	for name, args := range map[string][]string{
		"no command":           {},
		"unknown command":      {"explode"},
		"invalid fault":        {"add", "-status", "404", "-rate", "1"},
		"unavailable, no -for": {"unavailable"},
		"split, no -container": {"split"},
		"stray argument":       {"add", "-latency", "1s", "extra"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.faults(t, args...)
			assert.Error(t, err)
		})
	}
	err := realMain(context.Background(), []string{"faults", "-endpoint", c.endpoint, "-key", "d3Jvbmc=", "list"}, io.Discard, io.Discard)
	assert.ErrorContains(t, err, "401", "the control endpoint wants the account key")
}

func TestThrottleFlags(t *testing.T) {
	o, err := parseOptions(nil, io.Discard)
	require.NoError(t, err)
	assert.False(t, o.NoThrottle, "throttling is on by default")
	assert.Zero(t, o.ServerlessRUPerSecond)
	o, err = parseOptions([]string{"-throttle=false", "-serverless-ru", "5000"}, io.Discard)
	require.NoError(t, err)
	assert.True(t, o.NoThrottle)
	assert.Equal(t, 5000.0, o.ServerlessRUPerSecond)
}
