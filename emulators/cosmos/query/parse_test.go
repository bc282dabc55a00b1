package query

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseErrorNamesTheProblem(t *testing.T) {
	cases := []struct {
		name   string
		query  string
		params map[string]any
		want   string // a substring of the message
	}{
		{name: "unsupported function", query: `SELECT * FROM c WHERE LOWER(c.x) = 'a'`, want: `unsupported function "LOWER" at offset 22`},
		{name: "unsupported function any case", query: `SELECT VALUE lower(c.x) FROM c`, want: `unsupported function "LOWER" at offset 13`},
		{name: "spatial function", query: `SELECT * FROM c WHERE ST_DISTANCE(c.loc, c.p) < 10`, want: `unsupported function "ST_DISTANCE"`},
		{name: "aggregate", query: `SELECT VALUE SUM(c.total) FROM c`, want: `unsupported aggregate function "SUM"`},
		{name: "COUNT inside an expression", query: `SELECT VALUE COUNT(1) > 1 FROM c`, want: `COUNT is supported only as a whole SELECT item at offset 13`},
		{name: "COUNT in WHERE", query: `SELECT * FROM c WHERE COUNT(1) > 1`, want: `COUNT is supported only as a whole SELECT item`},
		{name: "aggregate mixed with projection", query: `SELECT c.status, COUNT(1) FROM c`, want: `requires GROUP BY`},
		{name: "UDF", query: `SELECT * FROM c WHERE udf.tax(c.total) > 1`, want: `user-defined functions are not supported at offset 22`},
		{name: "JOIN", query: `SELECT t FROM c JOIN t IN c.tags`, want: `JOIN is not supported`},
		{name: "JOIN after alias", query: `SELECT t FROM Orders c JOIN t IN c.tags`, want: `JOIN is not supported`},
		{name: "GROUP BY", query: `SELECT VALUE c.status FROM c GROUP BY c.status`, want: `GROUP BY is not supported`},
		{name: "GROUP BY after WHERE", query: `SELECT VALUE c.status FROM c WHERE c.x = 1 GROUP BY c.status`, want: `GROUP BY is not supported`},
		{name: "subquery in IN", query: `SELECT * FROM c WHERE c.id IN (SELECT VALUE 1)`, want: `subqueries are not supported`},
		{name: "subquery in parentheses", query: `SELECT * FROM c WHERE (SELECT VALUE 1) = 1`, want: `subqueries are not supported`},
		{name: "subquery in FROM", query: `SELECT * FROM (SELECT VALUE 1)`, want: `subqueries are not supported`},
		{name: "EXISTS", query: `SELECT * FROM c WHERE EXISTS(SELECT VALUE t FROM t IN c.tags)`, want: `subqueries (EXISTS) are not supported`},
		{name: "ARRAY subquery", query: `SELECT ARRAY(SELECT VALUE t FROM t IN c.tags) AS a FROM c`, want: `subqueries (ARRAY) are not supported`},
		{name: "DISTINCT", query: `SELECT DISTINCT c.status FROM c`, want: `DISTINCT is not supported`},
		{name: "FROM IN", query: `SELECT * FROM t IN c.tags`, want: `FROM ... IN (array iteration) is not supported`},
		{name: "FROM path", query: `SELECT * FROM c.tags`, want: `FROM a sub-document path is not supported`},
		{name: "arithmetic", query: `SELECT * FROM c WHERE c.total + 1 > 2`, want: `unsupported operator "+" at offset 30`},
		{name: "concatenation", query: `SELECT VALUE c.a || c.b FROM c`, want: `unsupported operator "||"`},
		{name: "ternary", query: `SELECT VALUE c.a ? 1 : 2 FROM c`, want: `unsupported operator "?"`},
		{name: "coalesce", query: `SELECT VALUE c.a ?? 1 FROM c`, want: `unsupported operator "??"`},
		{name: "unary minus on a path", query: `SELECT VALUE -c.a FROM c`, want: `unsupported operator "-"`},
		{name: "BETWEEN", query: `SELECT * FROM c WHERE c.x BETWEEN 1 AND 2`, want: `BETWEEN is not supported`},
		{name: "LIKE", query: `SELECT * FROM c WHERE c.x LIKE 'a%'`, want: `LIKE is not supported`},
		{name: "ORDER BY two properties", query: `SELECT * FROM c ORDER BY c.a, c.b`, want: `ORDER BY on more than one property is not supported`},
		{name: "ORDER BY expression", query: `SELECT * FROM c ORDER BY 1`, want: `ORDER BY supports only a property path`},
		{name: "ORDER BY without BY", query: `SELECT * FROM c ORDER c.a`, want: `expected BY, found "c"`},
		{name: "missing parameter", query: `SELECT * FROM c WHERE c.x = @missing`, want: `parameter @missing is not defined at offset 28`},
		{name: "missing TOP parameter", query: `SELECT TOP @n * FROM c`, want: `parameter @n is not defined`},
		{name: "TOP fraction", query: `SELECT TOP 1.5 * FROM c`, want: `TOP needs a non-negative integer, got 1.5`},
		{name: "TOP string parameter", query: `SELECT TOP @n * FROM c`, params: map[string]any{"@n": "3"}, want: `TOP needs a non-negative integer, got "3"`},
		{name: "TOP negative", query: `SELECT TOP -1 * FROM c`, want: `expected a number after TOP, found "-"`},
		{name: "LIMIT without OFFSET", query: `SELECT * FROM c LIMIT 5`, want: `LIMIT without OFFSET is not supported`},
		{name: "OFFSET without LIMIT", query: `SELECT * FROM c OFFSET 5`, want: `expected LIMIT, found end of query`},
		{name: "negative LIMIT parameter", query: `SELECT * FROM c OFFSET 0 LIMIT @l`, params: map[string]any{"@l": -1.0}, want: `LIMIT needs a non-negative integer`},
		{name: "clauses out of order", query: `SELECT * FROM c ORDER BY c.a WHERE c.a = 1`, want: `unexpected "WHERE"`},
		{name: "unknown alias", query: `SELECT * FROM c WHERE d.x = 1`, want: `identifier "d" is not the FROM alias "c" at offset 22`},
		{name: "container name is not the alias", query: `SELECT Orders.id FROM Orders o`, want: `identifier "Orders" is not the FROM alias "o"`},
		{name: "path without FROM", query: `SELECT c.id`, want: `identifier "c" needs a FROM clause`},
		{name: "star without FROM", query: `SELECT *`, want: `SELECT * needs a FROM clause`},
		{name: "not a query", query: `DELETE FROM c`, want: `expected SELECT or FROM, found "DELETE"`},
		{name: "empty query", query: ``, want: `expected SELECT or FROM, found end of query at offset 0`},
		{name: "empty WHERE", query: `SELECT * FROM c WHERE`, want: `expected an expression, found end of query`},
		{name: "keyword as expression", query: `SELECT * FROM c WHERE c.a = SELECT`, want: `expected an expression, found "SELECT"`},
		{name: "trailing tokens", query: `SELECT * FROM c WHERE c.x = 'a' extra`, want: `unexpected "extra"`},
		{name: "unclosed parenthesis", query: `SELECT * FROM c WHERE (c.x = 1`, want: `expected ")", found end of query`},
		{name: "unterminated string", query: `SELECT * FROM c WHERE c.name = 'abc`, want: `unterminated string at offset 31`},
		{name: "bad escape", query: `SELECT * FROM c WHERE c.name = "\q"`, want: `invalid escape sequence "\\q"`},
		{name: "bad unicode escape", query: `SELECT * FROM c WHERE c.name = "\u12"`, want: `invalid unicode escape`},
		{name: "unexpected character", query: `SELECT * FROM c WHERE c.x = #1`, want: `unexpected character '#' at offset 28`},
		{name: "lone @", query: `SELECT * FROM c WHERE c.x = @`, want: `parameter name expected after "@"`},
		{name: "duplicate projection", query: `SELECT c.id, c.a.id FROM c`, want: `duplicate projection name "id" at offset 13`},
		{name: "parameter that is not JSON", query: `SELECT * FROM c WHERE c.x = @ch`, params: map[string]any{"@ch": make(chan int)}, want: `parameter @ch: value of type chan int is not JSON`},
		{name: "two VALUEs", query: `SELECT VALUE c.a, c.b FROM c`, want: `SELECT VALUE takes exactly one expression`},
		{name: "AS without a name", query: `SELECT c.a AS FROM c`, want: `expected a name after AS, found "FROM"`},
		{name: "function arity", query: `SELECT * FROM c WHERE STARTSWITH(c.x)`, want: `function STARTSWITH takes 2 to 3 arguments, got 1`},
		{name: "IS_DEFINED arity", query: `SELECT * FROM c WHERE IS_DEFINED(c.x, c.y)`, want: `function IS_DEFINED takes 1 argument(s), got 2`},
		{name: "empty IN", query: `SELECT * FROM c WHERE c.x IN ()`, want: `IN needs at least one value`},
		{name: "IN without parentheses", query: `SELECT * FROM c WHERE c.x IN c.y`, want: `expected "(", found "c"`},
		{name: "duplicate object property", query: `SELECT VALUE {a: 1, a: 2} FROM c`, want: `duplicate property "a" in object literal`},
		{name: "bad object key", query: `SELECT VALUE {1: 1} FROM c`, want: `expected a property name in an object literal`},
		{name: "bad bracket index", query: `SELECT VALUE c[c.x] FROM c`, want: `expected a property name or array index in "[]"`},
		{name: "fractional index", query: `SELECT VALUE c.tags[1.5] FROM c`, want: `array index must be a non-negative integer`},
		{name: "property after dot", query: `SELECT VALUE c.'x' FROM c`, want: `expected a property name after "."`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := Parse(tc.query, tc.params)

			require.Error(t, err)
			assert.Nil(t, q)
			assert.Contains(t, err.Error(), tc.want)
			var perr *ParseError
			assert.True(t, errors.As(err, &perr), "error is a *ParseError")
		})
	}
}

func TestParseErrorOffset(t *testing.T) {
	_, err := Parse(`SELECT * FROM c WHERE LOWER(c.x) = 'a'`, nil)

	var perr *ParseError
	require.True(t, errors.As(err, &perr))
	assert.Equal(t, 22, perr.Offset)
	assert.Equal(t, `unsupported function "LOWER"`, perr.Msg)
}

func TestLexStrings(t *testing.T) {
	cases := []struct {
		name, literal, want string
	}{
		{name: "single quoted", literal: `'Placed'`, want: "Placed"},
		{name: "double quoted", literal: `"Placed"`, want: "Placed"},
		{name: "other quote inside", literal: `"it's"`, want: "it's"},
		{name: "escaped single quote", literal: `'it\'s'`, want: "it's"},
		{name: "escaped double quote", literal: `"say \"hi\""`, want: `say "hi"`},
		{name: "control escapes", literal: `"a\tb\nc\rd\be\ff"`, want: "a\tb\nc\rd\be\ff"},
		{name: "backslash and slash", literal: `'\\\/'`, want: `\/`},
		{name: "unicode escape", literal: `"caf\u00e9"`, want: "café"},
		{name: "surrogate pair", literal: `"\ud83d\ude00"`, want: "😀"},
		{name: "raw UTF-8", literal: `'日本'`, want: "日本"},
		{name: "empty", literal: `''`, want: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := Parse("SELECT VALUE "+tc.literal, nil)
			require.NoError(t, err)

			got, err := q.Run(nil)

			require.NoError(t, err)
			assert.Equal(t, []any{tc.want}, got)
		})
	}
}

func TestLexNumbers(t *testing.T) {
	cases := []struct {
		literal string
		want    float64
	}{
		{"0", 0}, {"42", 42}, {"10.5", 10.5}, {"1e3", 1000}, {"1.5E-2", 0.015}, {"-7", -7}, {"- 7", -7},
	}
	for _, tc := range cases {
		t.Run(tc.literal, func(t *testing.T) {
			q, err := Parse("SELECT VALUE "+tc.literal, nil)
			require.NoError(t, err)

			got, err := q.Run(nil)

			require.NoError(t, err)
			assert.Equal(t, []any{tc.want}, got)
		})
	}
}
