package query

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// docsJSON are the documents most Run cases query, in storage order.
const docsJSON = `[
	{"id": "1", "status": "Placed", "total": 30, "tags": ["a", "b"], "customer": {"name": "Ann", "tier": "gold"}, "lines": [{"sku": "x", "qty": 1}]},
	{"id": "2", "status": "Paid", "total": 10.5, "tags": [], "customer": {"name": "bob"}, "lines": [{"sku": "y", "qty": 2}, {"sku": "x", "qty": 3}]},
	{"id": "3", "status": "Placed", "total": "20", "customer": null},
	{"id": "4", "status": null, "total": null, "tags": ["b"]},
	{"id": "5", "total": true, "customer": {"name": "Cy", "tier": "silver"}}
]`

func decodeDocs(t testing.TB, s string) []map[string]any {
	t.Helper()
	var docs []map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &docs))
	return docs
}

// decode turns the JSON text of an expected result into what Run returns.
func decode(t testing.TB, s string) []any {
	t.Helper()
	var v []any
	require.NoError(t, json.Unmarshal([]byte(s), &v))
	return v
}

func runQuery(t testing.TB, text string, params map[string]any) []any {
	t.Helper()
	q, err := Parse(text, params)
	require.NoError(t, err)
	got, err := q.Run(decodeDocs(t, docsJSON))
	require.NoError(t, err)
	return got
}

func TestRunSmoke(t *testing.T) {
	got := runQuery(t, "SELECT c.id, c.customer.name AS n FROM c WHERE c.status = 'Placed' ORDER BY c.id DESC", nil)
	assert.Equal(t, decode(t, `[{"id":"3"},{"id":"1","n":"Ann"}]`), got)
}
