package cosmos

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPartitionOfMapsRequestsToRanges(t *testing.T) {
	s := &Server{store: newStore()}
	s.store.partitions.def = 4
	_, err := s.store.createDatabase("db", nil)
	require.NoError(t, err)
	c, err := s.store.createContainer("db", map[string]any{"id": "c", "partitionKey": map[string]any{"paths": []any{"/k"}}}, nil)
	require.NoError(t, err)
	rt, _ := parseRoute("/dbs/db/colls/c/docs/x")

	r := httptest.NewRequest(http.MethodGet, "/dbs/db/colls/c/docs/x", nil)
	r.Header.Set(hdrPartitionKey, `["o1"]`)
	got, id, err := s.partitionOf(r, rt)
	require.NoError(t, err)
	assert.Same(t, c, got)
	assert.Equal(t, c.routing().owner(c.pk.effectivePK([]any{"o1"})).ID, id)

	r.Header.Set(hdrPKRangeID, "2")
	_, id, _ = s.partitionOf(r, rt)
	assert.Equal(t, "2", id, "the range header wins")

	feed, _ := parseRoute("/dbs/db/colls/c/docs")
	_, id, err = s.partitionOf(httptest.NewRequest(http.MethodPost, "/dbs/db/colls/c/docs", nil), feed)
	require.NoError(t, err)
	assert.Equal(t, "", id, "a cross-partition request names no range")

	dbRoute, _ := parseRoute("/dbs/db")
	got, _, err = s.partitionOf(r, dbRoute)
	assert.NoError(t, err)
	assert.Nil(t, got, "not an item request")
}

func TestAccountAdvertisesConfiguredConsistencyAndRegion(t *testing.T) {
	opts, err := Options{Consistency: "Strong", Region: "West Europe", RegionEndpoint: "https://proxy:443/"}.withDefaults()
	require.NoError(t, err)
	s := &Server{opts: opts}
	w := httptest.NewRecorder()
	require.NoError(t, s.getAccount(w, httptest.NewRequest(http.MethodGet, "/", nil), route{}))
	var acct struct {
		Writable []map[string]string          `json:"writableLocations"`
		Policy   map[string]string            `json:"userConsistencyPolicy"`
		Readable []map[string]json.RawMessage `json:"readableLocations"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &acct))
	assert.Equal(t, "Strong", acct.Policy["defaultConsistencyLevel"])
	require.Len(t, acct.Writable, 1)
	assert.Equal(t, "West Europe", acct.Writable[0]["name"])
	assert.Equal(t, "https://proxy:443/", acct.Writable[0]["databaseAccountEndpoint"])

	def, err := Options{}.withDefaults()
	require.NoError(t, err)
	assert.Equal(t, "Session", def.Consistency)
	assert.Equal(t, "South Central US", def.Region)
}
