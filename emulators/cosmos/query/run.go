package query

import (
	"errors"
	"sort"
)

// Run evaluates the query over docs (decoded JSON objects, in storage order)
// and returns every result: the whole document for SELECT *, a projected
// object, a VALUE, or a count (a float64, as encoding/json would decode it).
// Results share maps and slices with docs: treat both as read-only.
func (q *Query) Run(docs []map[string]any) ([]any, error) {
	results, _, err := q.RunMatched(docs)
	return results, err
}

// RunMatched is Run that also reports how many documents WHERE kept: the
// documents an indexed engine loads, which a request charge counts.
func (q *Query) RunMatched(docs []map[string]any) (results []any, matched int, err error) {
	if q == nil {
		return nil, 0, errors.New("run query: nil query")
	}
	roots := q.filter(docs)
	if q.sel.agg {
		return q.page([]any{q.aggregate(roots)}), len(roots), nil
	}
	if q.orderBy != nil {
		roots = q.sort(roots)
	}
	return q.project(roots), len(roots), nil
}

// SelectsDocuments reports whether the results of the query are whole
// documents (SELECT *, or a filter predicate), which RunRows identifies.
func (q *Query) SelectsDocuments() bool { return q != nil && q.sel.star }

// RunRows is RunMatched of a query that SelectsDocuments: it returns the
// positions in docs of the results, in result order, so that a caller
// can answer with the documents as it stores them.
func (q *Query) RunRows(docs []map[string]any) (rows []int, matched int, err error) {
	if !q.SelectsDocuments() {
		return nil, 0, errors.New("run query: the results are not whole documents")
	}
	for i, d := range docs {
		if q.matches(d) {
			rows = append(rows, i)
		}
	}
	matched = len(rows)
	if q.orderBy != nil {
		rows = sortRows(q, rows, func(i int) any { return docs[i] })
	}
	return window(q, rows), matched, nil
}

// Eval reports whether the WHERE clause holds for doc; a query without WHERE
// holds for every document.
func (q *Query) Eval(doc map[string]any) (bool, error) {
	if q == nil {
		return false, errors.New("eval query: nil query")
	}
	return q.matches(doc), nil
}

func (q *Query) matches(root any) bool {
	return q.where == nil || q.where.eval(root) == true
}

// filter returns the documents WHERE keeps. Without FROM the query runs
// once, over no document.
func (q *Query) filter(docs []map[string]any) []any {
	if q.alias == "" {
		docs = []map[string]any{nil}
	}
	roots := make([]any, 0, len(docs))
	for _, d := range docs {
		if q.matches(d) {
			roots = append(roots, d)
		}
	}
	return roots
}

// sort orders roots by the ORDER BY path, stably, dropping those whose sort
// value is undefined.
func (q *Query) sort(roots []any) []any {
	return sortRows(q, roots, func(r any) any { return r })
}

// sortRows orders rows by the ORDER BY path of their root, stably,
// dropping those whose sort value is undefined.
func sortRows[T any](q *Query, rows []T, root func(T) any) []T {
	type keyed struct {
		row T
		key any
	}
	keys := make([]keyed, 0, len(rows))
	for _, r := range rows {
		if k := q.orderBy.path.eval(root(r)); kindOf(k) != kindUndefined {
			keys = append(keys, keyed{row: r, key: k})
		}
	}
	sort.SliceStable(keys, func(i, j int) bool {
		c := compareSortKeys(keys[i].key, keys[j].key)
		if q.orderBy.desc {
			return c > 0
		}
		return c < 0
	})
	out := make([]T, len(keys))
	for i, k := range keys {
		out[i] = k.row
	}
	return out
}

// compareSortKeys ranks null < false < true < numbers < strings < arrays <
// objects; arrays and objects tie with their own kind.
func compareSortKeys(a, b any) int {
	ka, kb := kindOf(a), kindOf(b)
	switch {
	case ka != kb:
		return int(ka) - int(kb)
	case ka >= kindArray:
		return 0
	}
	return compareScalars(a, b)
}

// project builds the result of each root, skipping undefined VALUEs, and
// applies OFFSET, LIMIT and TOP to the results as it goes.
func (q *Query) project(roots []any) []any {
	out := []any{}
	skip := q.offset
	for _, r := range roots {
		if q.full(len(out)) {
			break
		}
		v := q.result(r)
		if v == undefined {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		out = append(out, v)
	}
	return out
}

func (q *Query) full(n int) bool {
	return (q.top >= 0 && n >= q.top) || (q.limit >= 0 && n >= q.limit)
}

// page applies OFFSET, LIMIT and TOP to already computed results.
func (q *Query) page(results []any) []any { return window(q, results) }

func window[T any](q *Query, results []T) []T {
	out := []T{}
	for i, v := range results {
		if i >= q.offset && !q.full(len(out)) {
			out = append(out, v)
		}
	}
	return out
}

func (q *Query) result(root any) any {
	switch {
	case q.sel.star:
		return root
	case q.sel.value != nil:
		return q.sel.value.eval(root)
	}
	return buildObject(q.sel.items, root)
}

// aggregate computes the single result of an aggregate query.
func (q *Query) aggregate(roots []any) any {
	if q.sel.value != nil {
		return count(q.sel.value, roots)
	}
	obj := make(map[string]any, len(q.sel.items))
	for _, item := range q.sel.items {
		obj[item.name] = count(item.expr, roots)
	}
	return obj
}

func count(e expr, roots []any) float64 {
	n := 0
	for _, r := range roots {
		if e.eval(r) == true {
			n++
		}
	}
	return float64(n)
}
