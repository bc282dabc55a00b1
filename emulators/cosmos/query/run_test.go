package query

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// docsJSON are the documents most Run cases query, in storage order. They mix
// types on purpose: total is a number, a string, null and a boolean.
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

type runCase struct {
	name   string
	query  string
	params map[string]any
	want   string // JSON array
}

func runCases(t *testing.T, cases []runCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := Parse(tc.query, tc.params)
			require.NoError(t, err)
			got, err := q.Run(decodeDocs(t, docsJSON))
			require.NoError(t, err)
			assert.Equal(t, decode(t, tc.want), got)
			if q.SelectsDocuments() {
				assertRowsAreResults(t, q)
			}
		})
	}
}

// assertRowsAreResults checks that RunRows names the documents
// RunMatched returns, with the same count of matches.
func assertRowsAreResults(t *testing.T, q *Query) {
	t.Helper()
	docs := decodeDocs(t, docsJSON)
	want, wantMatched, err := q.RunMatched(docs)
	require.NoError(t, err)
	rows, matched, err := q.RunRows(docs)
	require.NoError(t, err)
	got := []any{}
	for _, i := range rows {
		got = append(got, docs[i])
	}
	assert.Equal(t, want, got)
	assert.Equal(t, wantMatched, matched)
}

func TestRunRowsNeedsWholeDocuments(t *testing.T) {
	for text, whole := range map[string]bool{
		"SELECT * FROM c": true, "FROM c WHERE c.total > 1": true, "SELECT TOP 2 * FROM c ORDER BY c.id DESC": true,
		"SELECT * FROM c ORDER BY c.total": true, "SELECT * FROM c ORDER BY c.total DESC OFFSET 1 LIMIT 2": true,
		"SELECT * FROM c WHERE c.status = 'Placed' OFFSET 1 LIMIT 1": true,
		"SELECT c.id FROM c": false, "SELECT VALUE c FROM c": false, "SELECT VALUE COUNT(1) FROM c": false,
	} {
		q, err := Parse(text, nil)
		require.NoError(t, err)
		assert.Equal(t, whole, q.SelectsDocuments(), text)
		if !whole {
			_, _, err := q.RunRows(nil)
			assert.Error(t, err, text)
			continue
		}
		assertRowsAreResults(t, q)
	}
}

func TestRunSelect(t *testing.T) {
	doc4 := `{"id": "4", "status": null, "total": null, "tags": ["b"]}`
	runCases(t, []runCase{
		{name: "star returns whole document", query: `SELECT * FROM c WHERE c.id = '4'`, want: `[` + doc4 + `]`},
		{name: "filter without SELECT", query: `FROM c WHERE c.id = "4"`, want: `[` + doc4 + `]`},
		{name: "bare alias is named after it", query: `SELECT c FROM c WHERE c.id = '4'`, want: `[{"c": ` + doc4 + `}]`},
		{name: "value of a path", query: `SELECT VALUE c.id FROM c`, want: `["1","2","3","4","5"]`},
		{name: "undefined value produces no result", query: `SELECT VALUE c.customer.tier FROM c`, want: `["gold","silver"]`},
		{name: "value null is a result", query: `SELECT VALUE c.status FROM c WHERE c.id IN ('3','4')`, want: `["Placed", null]`},
		{
			name:  "projections with AS and brackets",
			query: `SELECT c.id, c.customer.name AS who, c["status"] FROM c WHERE c.id IN ("1", "5")`,
			want:  `[{"id":"1","who":"Ann","status":"Placed"},{"id":"5","who":"Cy"}]`,
		},
		{name: "alias without AS", query: `SELECT c.id ident FROM c WHERE c.id = '2'`, want: `[{"ident":"2"}]`},
		{
			name:  "unnamed expressions are numbered",
			query: `SELECT c.id, c.total > 20, c.tags[0], 'x' FROM c WHERE c.id = '1'`,
			want:  `[{"id":"1","$1":true,"$2":"a","$3":"x"}]`,
		},
		{name: "undefined projection omits the key", query: `SELECT c.id, c.nope FROM c WHERE c.id = '5'`, want: `[{"id":"5"}]`},
		{name: "all-undefined projection is an empty object", query: `SELECT c.nope FROM c WHERE c.id = '5'`, want: `[{}]`},
		{
			name:  "object literal",
			query: `SELECT VALUE {id: c.id, "tier": c.customer.tier} FROM c WHERE c.id IN ('1', '2')`,
			want:  `[{"id":"1","tier":"gold"},{"id":"2"}]`,
		},
		{name: "array literal drops undefined", query: `SELECT VALUE [c.id, c.nope, null] FROM c WHERE c.id = '1'`, want: `[["1", null]]`},
		{name: "array index and nested path", query: `SELECT VALUE c.lines[1].sku FROM c`, want: `["x"]`},
		{name: "no FROM evaluates once", query: `SELECT 1, "a" AS s`, want: `[{"$1":1,"s":"a"}]`},
		{name: "no FROM value", query: `SELECT VALUE [1, true]`, want: `[[1, true]]`},
	})
}

func TestRunFrom(t *testing.T) {
	runCases(t, []runCase{
		{name: "root alias", query: `SELECT VALUE root.id FROM root WHERE root.total = 10.5`, want: `["2"]`},
		{name: "container with alias", query: `SELECT r.id FROM root r WHERE r.total > 20`, want: `[{"id":"1"}]`},
		{name: "container AS alias", query: `SELECT VALUE o.id FROM Orders AS o WHERE o.status = "Paid"`, want: `["2"]`},
		{name: "keywords are case-insensitive", query: `SeLeCt vAlUe c.id fRoM c wHeRe c.id = '2' Or c.id = '3'`, want: `["2","3"]`},
		{name: "line comment", query: "SELECT VALUE c.id FROM c -- the orders\nWHERE c.id = '2'", want: `["2"]`},
	})
}

func TestRunWhere(t *testing.T) {
	runCases(t, []runCase{
		{name: "equal", query: `SELECT VALUE c.id FROM c WHERE c.status = 'Placed'`, want: `["1","3"]`},
		{name: "not equal skips other types", query: `SELECT VALUE c.id FROM c WHERE c.total != 30`, want: `["2"]`},
		{name: "angle not equal", query: `SELECT VALUE c.id FROM c WHERE c.status <> 'Placed'`, want: `["2"]`},
		{name: "less", query: `SELECT VALUE c.id FROM c WHERE c.total < 30`, want: `["2"]`},
		{name: "less or equal", query: `SELECT VALUE c.id FROM c WHERE c.total <= 30`, want: `["1","2"]`},
		{name: "greater", query: `SELECT VALUE c.id FROM c WHERE c.total > 10.5`, want: `["1"]`},
		{name: "greater or equal", query: `SELECT VALUE c.id FROM c WHERE c.total >= 10.5`, want: `["1","2"]`},
		{name: "number never equals string", query: `SELECT VALUE c.id FROM c WHERE c.total = 20`, want: `[]`},
		{name: "string comparison", query: `SELECT VALUE c.id FROM c WHERE c.total >= "20"`, want: `["3"]`},
		{name: "strings compare ordinally", query: `SELECT VALUE c.id FROM c WHERE c.customer.name > 'Z'`, want: `["2"]`},
		{name: "null equals null", query: `SELECT VALUE c.id FROM c WHERE c.status = null`, want: `["4"]`},
		{name: "boolean", query: `SELECT VALUE c.id FROM c WHERE c.total = true`, want: `["5"]`},
		{name: "undefined equals nothing", query: `SELECT VALUE c.id FROM c WHERE c.nope = undefined`, want: `[]`},
		{name: "array equality", query: `SELECT VALUE c.id FROM c WHERE c.tags = ['a', 'b']`, want: `["1"]`},
		{name: "empty array", query: `SELECT VALUE c.id FROM c WHERE c.tags = []`, want: `["2"]`},
		{name: "object equality", query: `SELECT VALUE c.id FROM c WHERE c.customer = {tier: 'gold', name: 'Ann'}`, want: `["1"]`},
		{name: "nested array index", query: `SELECT VALUE c.id FROM c WHERE c.lines[1].sku = 'x'`, want: `["2"]`},
		{name: "negative and exponent numbers", query: `SELECT VALUE c.id FROM c WHERE c.total > -1 AND c.total > 1e1`, want: `["1","2"]`},
		{name: "AND", query: `SELECT VALUE c.id FROM c WHERE c.status = 'Placed' AND c.total > 20`, want: `["1"]`},
		{name: "OR", query: `SELECT VALUE c.id FROM c WHERE c.status = 'Paid' OR c.total = true`, want: `["2","5"]`},
		{name: "OR over undefined", query: `SELECT VALUE c.id FROM c WHERE c.nope = 1 OR c.id = '3'`, want: `["3"]`},
		{name: "NOT keeps undefined out", query: `SELECT VALUE c.id FROM c WHERE NOT (c.status = 'Placed')`, want: `["2"]`},
		{name: "NOT NOT", query: `SELECT VALUE c.id FROM c WHERE NOT NOT c.total = true`, want: `["5"]`},
		{name: "AND binds tighter than OR", query: `SELECT VALUE c.id FROM c WHERE c.id = '1' OR c.id = '2' AND c.status = 'Placed'`, want: `["1"]`},
		{name: "parentheses", query: `SELECT VALUE c.id FROM c WHERE (c.id = '1' OR c.id = '2') AND c.status = 'Paid'`, want: `["2"]`},
		{name: "IN", query: `SELECT VALUE c.id FROM c WHERE c.id IN ('1', '3')`, want: `["1","3"]`},
		{name: "IN with mixed types", query: `SELECT VALUE c.id FROM c WHERE c.total IN (30, "20")`, want: `["1","3"]`},
		{name: "NOT IN", query: `SELECT VALUE c.id FROM c WHERE c.id NOT IN ('1', '2')`, want: `["3","4","5"]`},
		{name: "NOT IN skips undefined", query: `SELECT VALUE c.id FROM c WHERE c.status NOT IN ('Placed')`, want: `["2","4"]`},
		{name: "boolean path alone", query: `SELECT VALUE c.id FROM c WHERE c.total`, want: `["5"]`},
		{name: "non-boolean condition is false", query: `SELECT VALUE c.id FROM c WHERE c.id`, want: `[]`},
	})
}

func TestRunFunctions(t *testing.T) {
	runCases(t, []runCase{
		{name: "IS_DEFINED", query: `SELECT VALUE c.id FROM c WHERE IS_DEFINED(c.tags)`, want: `["1","2","4"]`},
		{name: "IS_DEFINED of null", query: `SELECT VALUE c.id FROM c WHERE IS_DEFINED(c.status)`, want: `["1","2","3","4"]`},
		{name: "NOT IS_DEFINED", query: `SELECT VALUE c.id FROM c WHERE NOT is_defined(c.status)`, want: `["5"]`},
		{name: "ARRAY_CONTAINS", query: `SELECT VALUE c.id FROM c WHERE ARRAY_CONTAINS(c.tags, 'b')`, want: `["1","4"]`},
		{name: "ARRAY_CONTAINS literal array", query: `SELECT VALUE c.id FROM c WHERE ARRAY_CONTAINS(['Paid', 'Placed'], c.status)`, want: `["1","2","3"]`},
		{name: "ARRAY_CONTAINS partial object", query: `SELECT VALUE c.id FROM c WHERE ARRAY_CONTAINS(c.lines, {"sku": "x"}, true)`, want: `["1","2"]`},
		{name: "ARRAY_CONTAINS full object", query: `SELECT VALUE c.id FROM c WHERE ARRAY_CONTAINS(c.lines, {"sku": "x"}, false)`, want: `[]`},
		{name: "ARRAY_CONTAINS whole object", query: `SELECT VALUE c.id FROM c WHERE ARRAY_CONTAINS(c.lines, {qty: 3, sku: "x"})`, want: `["2"]`},
		{name: "STARTSWITH", query: `SELECT VALUE c.id FROM c WHERE STARTSWITH(c.status, 'Pl')`, want: `["1","3"]`},
		{name: "STARTSWITH is case-sensitive", query: `SELECT VALUE c.id FROM c WHERE STARTSWITH(c.customer.name, 'B')`, want: `[]`},
		{name: "STARTSWITH ignoring case", query: `SELECT VALUE c.id FROM c WHERE STARTSWITH(c.customer.name, 'B', true)`, want: `["2"]`},
		{name: "STARTSWITH only strings", query: `SELECT VALUE c.id FROM c WHERE STARTSWITH(c.total, '2')`, want: `["3"]`},
		{name: "function in projection", query: `SELECT c.id, IS_DEFINED(c.tags) AS tagged FROM c WHERE c.id IN ('4','5')`, want: `[{"id":"4","tagged":true},{"id":"5","tagged":false}]`},
	})
}

func TestRunOrderBy(t *testing.T) {
	runCases(t, []runCase{
		{name: "ranks types", query: `SELECT VALUE c.id FROM c ORDER BY c.total`, want: `["4","5","2","1","3"]`},
		{name: "ASC", query: `SELECT VALUE c.id FROM c ORDER BY c.total ASC`, want: `["4","5","2","1","3"]`},
		{name: "DESC", query: `SELECT VALUE c.id FROM c ORDER BY c.total DESC`, want: `["3","1","2","5","4"]`},
		{name: "excludes undefined, stable on ties", query: `SELECT VALUE c.id FROM c ORDER BY c.status`, want: `["4","2","1","3"]`},
		{name: "DESC stable on ties", query: `SELECT VALUE c.id FROM c ORDER BY c.status DESC`, want: `["1","3","2","4"]`},
		{name: "objects after null", query: `SELECT VALUE c.id FROM c ORDER BY c.customer`, want: `["3","1","2","5"]`},
		{name: "with WHERE", query: `select value c.id from c where c.status = 'Placed' order by c.id desc`, want: `["3","1"]`},
		{name: "bracket path", query: `SELECT VALUE c.id FROM c ORDER BY c["customer"]["name"] DESC`, want: `["2","5","1"]`},
	})
}

func TestRunPaging(t *testing.T) {
	runCases(t, []runCase{
		{name: "TOP", query: `SELECT TOP 2 VALUE c.id FROM c`, want: `["1","2"]`},
		{name: "TOP star", query: `SELECT TOP 1 * FROM c ORDER BY c.id DESC`, want: `[{"id": "5", "total": true, "customer": {"name": "Cy", "tier": "silver"}}]`},
		{name: "TOP 0", query: `SELECT TOP 0 VALUE c.id FROM c`, want: `[]`},
		{name: "TOP larger than results", query: `SELECT TOP 50 VALUE c.id FROM c WHERE c.total = true`, want: `["5"]`},
		{name: "TOP after ORDER BY", query: `SELECT TOP 2 c.id FROM c ORDER BY c.total DESC`, want: `[{"id":"3"},{"id":"1"}]`},
		{name: "OFFSET LIMIT", query: `SELECT VALUE c.id FROM c ORDER BY c.id OFFSET 1 LIMIT 2`, want: `["2","3"]`},
		{name: "OFFSET past the end", query: `SELECT VALUE c.id FROM c OFFSET 10 LIMIT 2`, want: `[]`},
		{name: "LIMIT 0", query: `SELECT VALUE c.id FROM c OFFSET 0 LIMIT 0`, want: `[]`},
		{name: "pages over defined values", query: `SELECT VALUE c.customer.tier FROM c OFFSET 1 LIMIT 1`, want: `["silver"]`},
		{name: "TOP with OFFSET LIMIT", query: `SELECT TOP 1 VALUE c.id FROM c OFFSET 1 LIMIT 3`, want: `["2"]`},
	})
}

func TestRunCount(t *testing.T) {
	runCases(t, []runCase{
		{name: "VALUE COUNT(1)", query: `SELECT VALUE COUNT(1) FROM c`, want: `[5]`},
		{name: "COUNT with WHERE", query: `SELECT VALUE COUNT(1) FROM c WHERE c.status = 'Placed'`, want: `[2]`},
		{name: "COUNT of nothing", query: `SELECT VALUE COUNT(1) FROM c WHERE c.id = 'none'`, want: `[0]`},
		{name: "COUNT AS", query: `SELECT COUNT(1) AS n FROM c`, want: `[{"n":5}]`},
		{name: "unnamed COUNT", query: `SELECT COUNT(c.tags) FROM c`, want: `[{"$1":3}]`},
		{name: "COUNT counts null", query: `SELECT VALUE COUNT(c.customer) FROM c`, want: `[4]`},
		{name: "two counts", query: `SELECT COUNT(c.tags) AS tagged, count(1) AS n FROM c`, want: `[{"tagged":3,"n":5}]`},
		{name: "COUNT with ORDER BY", query: `SELECT VALUE COUNT(1) FROM c ORDER BY c.status`, want: `[5]`},
		{name: "COUNT with OFFSET past it", query: `SELECT VALUE COUNT(1) FROM c OFFSET 1 LIMIT 1`, want: `[]`},
	})
}

func TestRunParameters(t *testing.T) {
	runCases(t, []runCase{
		{name: "string", query: `SELECT VALUE c.id FROM c WHERE c.status = @s`, params: map[string]any{"@s": "Paid"}, want: `["2"]`},
		{name: "key without @", query: `SELECT VALUE c.id FROM c WHERE c.status = @s`, params: map[string]any{"s": "Paid"}, want: `["2"]`},
		{name: "number", query: `SELECT VALUE c.id FROM c WHERE c.total >= @min`, params: map[string]any{"@min": 30.0}, want: `["1"]`},
		{name: "Go int", query: `SELECT VALUE c.id FROM c WHERE c.total = @n`, params: map[string]any{"@n": 30}, want: `["1"]`},
		{name: "null", query: `SELECT VALUE c.id FROM c WHERE c.status = @s`, params: map[string]any{"@s": nil}, want: `["4"]`},
		{name: "bool", query: `SELECT VALUE c.id FROM c WHERE c.total = @b`, params: map[string]any{"@b": true}, want: `["5"]`},
		{
			name: "in IN list", query: `SELECT VALUE c.id FROM c WHERE c.id IN (@a, @b)`,
			params: map[string]any{"@a": "2", "@b": "4"}, want: `["2","4"]`,
		},
		{
			name: "array for ARRAY_CONTAINS", query: `SELECT VALUE c.id FROM c WHERE ARRAY_CONTAINS(@ids, c.id)`,
			params: map[string]any{"@ids": []any{"1", "5"}}, want: `["1","5"]`,
		},
		{
			name: "object for partial ARRAY_CONTAINS", query: `SELECT VALUE c.id FROM c WHERE ARRAY_CONTAINS(c.lines, @line, true)`,
			params: map[string]any{"@line": map[string]any{"sku": "y"}}, want: `["2"]`,
		},
		{name: "property name", query: `SELECT VALUE c.id FROM c WHERE c[@f] = 'Paid'`, params: map[string]any{"@f": "status"}, want: `["2"]`},
		{name: "array index", query: `SELECT VALUE c.tags[@i] FROM c`, params: map[string]any{"@i": 1.0}, want: `["b"]`},
		{name: "TOP", query: `SELECT TOP @n VALUE c.id FROM c`, params: map[string]any{"@n": 3.0}, want: `["1","2","3"]`},
		{
			name: "OFFSET LIMIT", query: `SELECT VALUE c.id FROM c OFFSET @o LIMIT @l`,
			params: map[string]any{"@o": 3.0, "@l": 5.0}, want: `["4","5"]`,
		},
		{
			name: "Go slice", query: `SELECT VALUE c.id FROM c WHERE ARRAY_CONTAINS(@ids, c.id)`,
			params: map[string]any{"@ids": []string{"2", "3"}}, want: `["2","3"]`,
		},
		{name: "same parameter twice", query: `SELECT VALUE c.id FROM c WHERE c.id = @x OR c.status = @x`, params: map[string]any{"@x": "2"}, want: `["2"]`},
	})
}

func TestRunGoTypedDocuments(t *testing.T) {
	q, err := Parse(`SELECT VALUE c.id FROM c WHERE c.n = 3 ORDER BY c.n`, nil)
	require.NoError(t, err)
	docs := []map[string]any{{"id": "a", "n": int64(3)}, {"id": "b", "n": 3}, {"id": "c", "n": json.Number("3")}}

	got, err := q.Run(docs)

	require.NoError(t, err)
	assert.Equal(t, []any{"a", "b", "c"}, got)
}

func TestRunStarReturnsTheDocument(t *testing.T) {
	q, err := Parse(`SELECT * FROM c`, nil)
	require.NoError(t, err)

	got, err := q.Run(nil)

	require.NoError(t, err)
	assert.NotNil(t, got, "an empty result is an empty array, not null")
	assert.Empty(t, got)
}
