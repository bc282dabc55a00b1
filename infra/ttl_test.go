package infra

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestContainersTimeToLive: every time to live in containers.json is one
// Cosmos DB accepts (-1 or 1..2147483647 seconds: an int32), the idempotency
// records have one, and the Bicep passes each container's on to Azure as
// EnsureSchema does locally.
func TestContainersTimeToLive(t *testing.T) {
	schema, err := LoadSchema()
	require.NoError(t, err)
	ttl := map[string]int32{}
	for _, c := range schema.Containers {
		if c.DefaultTTL == nil {
			continue
		}
		v := *c.DefaultTTL
		assert.True(t, v == -1 || v >= 1, "%s: defaultTtl %d", c.Name, v)
		ttl[c.Name] = v
	}
	assert.Equal(t, map[string]int32{"idempotency": 24 * 60 * 60}, ttl,
		"only the idempotency records expire: orders, stock, payments, dead letters and leases are kept")

	b, err := os.ReadFile("modules/cosmos.bicep")
	require.NoError(t, err)
	bicep := string(b)
	at := strings.Index(bicep, "resource containers ")
	require.GreaterOrEqual(t, at, 0)
	end := strings.Index(bicep[at:], "}]")
	require.Positive(t, end)
	assert.Contains(t, bicep[at:at+end], "defaultTtl: contains(c, 'defaultTtl') ? c.defaultTtl : null",
		"the containers resource sets each container's time to live from containers.json")
}
