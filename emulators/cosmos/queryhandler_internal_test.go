package cosmos

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/cosmos/query"
)

// TestWholeDocumentResultsAreTheirEncodedValues holds runQuery, which
// answers SELECT * with the stored bodies, to encoding each result's
// decoded value, as it did before: for bodies encoded member by member,
// through encoding/json, and patched.
func TestWholeDocumentResultsAreTheirEncodedValues(t *testing.T) {
	st := newStore()
	_, err := st.createDatabase("db", nil)
	require.NoError(t, err)
	props := map[string]any{"id": "c", "partitionKey": map[string]any{"paths": []any{"/pk"}}}
	c, err := st.createContainer("db", props, nil)
	require.NoError(t, err)
	for _, body := range []string{
		`{"pk":"p","id":"a","n":1.50,"big":12345678901234567890,"e":1e-7,"s":"<&>\u2028 é","z":-0,"o":{"b":[1,{"y":2,"x":1}],"a":null}}`,
		`{"id":"b","pk":"p","dup":1,"dup":2,"bad":"` + "\xff" + `"}`, // through encoding/json
		`{"id":"c","pk":"p","n":1}`,
	} {
		it, err := decodeItem([]byte(body))
		require.NoError(t, err)
		_, err = c.execute(context.Background(), c.pk.pkeyOfItem(it), []itemOp{{kind: "Create", id: it.id, item: it}})
		require.NoError(t, err)
	}
	patch, perr := decodePatch([]byte(`{"operations":[{"op":"incr","path":"/n","value":0.25},{"op":"set","path":"/t","value":{"k":"<v>"}}]}`))
	require.Nil(t, perr)
	pk, ok, err := parsePKHeaderFor(`["p"]`, c.pk)
	require.True(t, ok)
	require.NoError(t, err)
	res, err := c.execute(context.Background(), pk, []itemOp{{kind: "Patch", id: "c", patch: patch}})
	require.NoError(t, err)
	require.Nil(t, res[0].err)

	for text, n := range map[string]int{"SELECT * FROM c": 3, "SELECT * FROM c ORDER BY c.id DESC": 3, "SELECT * FROM c WHERE c.n > 1.2": 2} {
		q, err := query.Parse(text, nil)
		require.NoError(t, err)
		docs, err := c.snapshot(context.Background(), scope{})
		require.NoError(t, err)
		want, wantMatched, err := runQueryValues(q, values(docs))
		require.NoError(t, err)
		got, matched, err := runQuery(q, docs)
		require.NoError(t, err)
		assert.Equal(t, wantMatched, matched, text)
		require.Len(t, want, n, text)
		require.Len(t, got, n, text)
		for i := range want {
			assert.Equal(t, string(want[i]), string(got[i]), text)
		}
	}
}

// TestQueriesAreCachedByWholeBody checks that a body seen before reuses
// its parsed query, and that the same text with other parameter values
// is another query.
func TestQueriesAreCachedByWholeBody(t *testing.T) {
	parse := func(body string) parsedQuery {
		t.Helper()
		p, err := parseQuery(httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)))
		require.NoError(t, err)
		return p
	}
	a := `{"query":"SELECT * FROM c WHERE c.id = @param_id0","parameters":[{"name":"@param_id0","value":"cache-a"}]}`
	b := strings.Replace(a, "cache-a", "cache-b", 1)
	first, again, other := parse(a), parse(a), parse(b)
	assert.Same(t, first.q, again.q)
	assert.True(t, again.readMany)
	assert.NotSame(t, first.q, other.q)
	assert.Equal(t, map[string]any{"id": "cache-b"}, other.q.Equalities())

	_, err := parseQuery(httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"query":"SELECT FROM"}`)))
	assert.Error(t, err)
	_, err = parseQuery(httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"query":"SELECT FROM"}`)))
	assert.Error(t, err, "a refused body is not cached")
}
