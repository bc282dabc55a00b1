package query

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTypeCheckingFunctions(t *testing.T) {
	docs := decodeDocs(t, docsJSON)
	tests := map[string]string{
		"IS_NUMBER(c.total)":     `["1","2"]`,
		"IS_STRING(c.total)":     `["3"]`,
		"IS_NULL(c.total)":       `["4"]`,
		"IS_BOOL(c.total)":       `["5"]`,
		"IS_ARRAY(c.tags)":       `["1","2","4"]`,
		"IS_OBJECT(c.customer)":  `["1","2","5"]`,
		"IS_PRIMITIVE(c.total)":  `["1","2","3","4","5"]`,
		"IS_PRIMITIVE(c.tags)":   `[]`,
		"NOT IS_NULL(c.missing)": `["1","2","3","4","5"]`,
	}
	for cond, want := range tests {
		q, err := Parse("SELECT VALUE c.id FROM c WHERE "+cond, nil)
		require.NoError(t, err, cond)
		got, err := q.Run(docs)
		require.NoError(t, err)
		assert.Equal(t, decode(t, want), got, cond)
	}
	_, err := Parse("SELECT * FROM c WHERE IS_NUMBER(c.a, c.b)", nil)
	assert.Error(t, err, "IS_NUMBER takes one argument")
}

func TestPlanPassThrough(t *testing.T) {
	tests := []struct {
		query string
		pass  bool
	}{
		{"SELECT * FROM c WHERE c.a = 1", true},
		{"SELECT c.id, c.a FROM c", true},
		{"SELECT VALUE COUNT(1) FROM c", true},
		{"SELECT COUNT(1) AS n FROM c", false},
		{"SELECT * FROM c ORDER BY c.a DESC", false},
		{"SELECT TOP 2 * FROM c", false},
		{"SELECT * FROM c OFFSET 1 LIMIT 2", false},
	}
	for _, tc := range tests {
		q, err := Parse(tc.query, nil)
		require.NoError(t, err, tc.query)
		assert.Equal(t, tc.pass, q.Plan().PassThrough(), tc.query)
	}
	q, err := Parse("SELECT * FROM c WHERE c.a.b = 1 AND ARRAY_CONTAINS(c.tags, 'x') ORDER BY c.ts DESC", nil)
	require.NoError(t, err)
	p := q.Plan()
	assert.Equal(t, []string{"Descending"}, p.OrderBy)
	assert.Equal(t, []string{"c.ts"}, p.OrderByExpressions)
	assert.Equal(t, []string{"/a/b/?", "/tags/?"}, q.FilterPaths())
}

func TestEqualities(t *testing.T) {
	q, err := Parse("SELECT * FROM c WHERE c.orderId = @id AND 'x' = c.customer.id AND c.n > 1 AND (c.a = 1 OR c.b = 2)", map[string]any{"@id": "o1"})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"orderId": "o1", "customer/id": "x"}, q.Equalities())
	q, err = Parse("SELECT * FROM c WHERE c.orderId = 'o1' OR c.orderId = 'o2'", nil)
	require.NoError(t, err)
	assert.Empty(t, q.Equalities(), "a disjunction fixes nothing")
}
