package query

import (
	"errors"
	"testing"
)

// FuzzParse checks that Parse never panics, that it returns either a query
// or a *ParseError, and that a query it accepts runs without panicking.
func FuzzParse(f *testing.F) {
	seeds := []string{
		`SELECT * FROM c`,
		`FROM c WHERE c.status = 'Placed'`,
		`SELECT VALUE COUNT(1) FROM c WHERE c.total > @min`,
		`SELECT TOP @n c.id, c.a.b AS x, c["field"], c.tags[0] FROM root c WHERE NOT (c.a IN (1, 'x', null)) ORDER BY c.id DESC`,
		`SELECT VALUE {a: c.a, "b": [c.b, -1.5e3]} FROM c WHERE ARRAY_CONTAINS(c.l, {sku: "x"}, true) OR STARTSWITH(c.s, "a\u00e9", true)`,
		`select value c from c where is_defined(c.x) and c.x <> undefined offset 1 limit 2`,
		`SELECT c.id FROM c JOIN t IN c.tags GROUP BY c.id`,
		`SELECT * FROM c WHERE c.a = 'unterminated`,
		"SELECT VALUE c.id FROM c -- comment\n",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	params := map[string]any{"@min": 1.0, "@n": 2.0, "@s": "x", "@a": []any{1.0, "x"}, "@o": map[string]any{"k": nil}}
	docs := []map[string]any{
		{"id": "1", "a": map[string]any{"b": 1.0}, "tags": []any{"x", 2.0}, "l": []any{map[string]any{"sku": "x"}}, "s": "abc"},
		{"id": "2", "a": nil, "total": 3.0, "x": true},
		{},
	}
	f.Fuzz(func(t *testing.T, text string) {
		q, err := Parse(text, params)
		if err != nil {
			var perr *ParseError
			if !errors.As(err, &perr) {
				t.Fatalf("Parse(%q) error %v is not a *ParseError", text, err)
			}
			return
		}
		if q == nil {
			t.Fatalf("Parse(%q) returned neither a query nor an error", text)
		}
		if _, err := q.Run(docs); err != nil {
			t.Fatalf("Run(%q): %v", text, err)
		}
		for _, d := range docs {
			if _, err := q.Eval(d); err != nil {
				t.Fatalf("Eval(%q): %v", text, err)
			}
		}
	})
}
