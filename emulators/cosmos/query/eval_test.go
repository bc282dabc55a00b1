package query

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEval(t *testing.T) {
	doc := map[string]any{"id": "1", "status": "Placed", "total": 30.0, "count": 3, "note": nil}
	cases := []struct {
		name  string
		query string
		want  bool
	}{
		{name: "filter predicate holds", query: `FROM c WHERE c.status = 'Placed'`, want: true},
		{name: "filter predicate fails", query: `FROM c WHERE c.status = 'Paid'`, want: false},
		{name: "any alias", query: `FROM root WHERE root.total > 20`, want: true},
		{name: "no WHERE holds", query: `FROM c`, want: true},
		{name: "SELECT without WHERE holds", query: `SELECT * FROM c`, want: true},
		{name: "full query uses its WHERE", query: `SELECT c.id FROM c WHERE c.id = '2' ORDER BY c.id`, want: false},
		{name: "mixed types are false", query: `FROM c WHERE c.total = '30'`, want: false},
		{name: "undefined is false", query: `FROM c WHERE c.missing = 1`, want: false},
		{name: "NOT undefined is false", query: `FROM c WHERE NOT (c.missing = 1)`, want: false},
		{name: "null is defined", query: `FROM c WHERE IS_DEFINED(c.note) AND c.note = null`, want: true},
		{name: "Go int compares as a number", query: `FROM c WHERE c.count = 3 AND c.count < 3.5`, want: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := Parse(tc.query, nil)
			require.NoError(t, err)

			got, err := q.Eval(doc)

			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestSemantics checks single expressions against Cosmos DB's rules for
// undefined, null and mixed types; "undefined" means SELECT VALUE yields
// nothing.
func TestSemantics(t *testing.T) {
	doc := map[string]any{"n": 1.0, "s": "a", "nul": nil, "arr": []any{1.0, 2.0}, "obj": map[string]any{"a": 1.0}}
	cases := []struct {
		expr string
		want any // true, false or "undefined"
	}{
		{"1 = 1", true},
		{"1 = 1.0", true},
		{"1 = '1'", "undefined"},
		{"null = null", true},
		{"null != null", false},
		{"c.nul = null", true},
		{"c.missing = null", "undefined"},
		{"c.missing = c.missing", "undefined"},
		{"c.n = c.n", true},
		{"true = 1", "undefined"},
		{"[1, 2] = c.arr", true},
		{"[2, 1] = c.arr", false},
		{"{a: 1} = c.obj", true},
		{"{a: 1, b: 2} = c.obj", false},
		{"[1] != [2]", "undefined"},
		{"c.obj < {a: 2}", "undefined"},
		{"true > false", true},
		{"'a' < 'b'", true},
		{"'B' < 'a'", true},
		{"'10' < '9'", true},
		{"2 < 10", true},
		{"null < null", false},
		{"null <= null", true},
		{"1 < 'a'", "undefined"},
		{"c.missing < 1", "undefined"},
		{"false AND c.missing", false},
		{"c.missing AND false", false},
		{"true AND c.missing", "undefined"},
		{"true AND 1", "undefined"},
		{"true AND true", true},
		{"true OR c.missing", true},
		{"c.missing OR true", true},
		{"false OR c.missing", "undefined"},
		{"false OR false", false},
		{"NOT c.missing", "undefined"},
		{"NOT 1", "undefined"},
		{"NOT false", true},
		{"c.missing IN (1)", "undefined"},
		{"1 IN (c.missing, 1)", true},
		{"1 IN ('1')", false},
		{"1 NOT IN ('1')", true},
		{"c.missing NOT IN (1)", "undefined"},
		{"IS_DEFINED(c.missing)", false},
		{"IS_DEFINED(c.missing.deeper)", false},
		{"IS_DEFINED(c.nul)", true},
		{"IS_DEFINED(c.s.length)", false},
		{"IS_DEFINED(c.arr[2])", false},
		{"IS_DEFINED(c.arr[1])", true},
		{"IS_DEFINED(c.obj[0])", false},
		{"ARRAY_CONTAINS(c.arr, 2)", true},
		{"ARRAY_CONTAINS(c.arr, '2')", false},
		{"ARRAY_CONTAINS('x', 'x')", "undefined"},
		{"ARRAY_CONTAINS(c.missing, 1)", "undefined"},
		{"ARRAY_CONTAINS([c.obj], {}, true)", true},
		{"ARRAY_CONTAINS([c.obj], {}, false)", false},
		{"ARRAY_CONTAINS([[1, 2]], c.arr)", true},
		{"ARRAY_CONTAINS(c.arr, 1, 'yes')", "undefined"},
		{"STARTSWITH('abc', 'ab')", true},
		{"STARTSWITH('abc', 'AB')", false},
		{"STARTSWITH('abc', 'AB', true)", true},
		{"STARTSWITH('abc', 'AB', false)", false},
		{"STARTSWITH('abc', '')", true},
		{"STARTSWITH(1, '1')", "undefined"},
		{"STARTSWITH('abc', 'a', 'yes')", "undefined"},
		{"STARTSWITH(c.missing, 'a')", "undefined"},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			q, err := Parse("SELECT VALUE ("+tc.expr+") FROM c", nil)
			require.NoError(t, err)

			got, err := q.Run([]map[string]any{doc})

			require.NoError(t, err)
			if tc.want == "undefined" {
				assert.Empty(t, got)
				return
			}
			assert.Equal(t, []any{tc.want}, got)
		})
	}
}
