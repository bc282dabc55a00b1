package query

import "strings"

// Plan describes what a query needs beyond filtering and projecting each
// document: what a client-side query engine must do when the query spans
// several partitions. Its JSON is the queryInfo of Cosmos DB's query plan.
type Plan struct {
	DistinctType       string   `json:"distinctType"`
	Top                *int     `json:"top"`
	Offset             *int     `json:"offset"`
	Limit              *int     `json:"limit"`
	OrderBy            []string `json:"orderBy"`
	OrderByExpressions []string `json:"orderByExpressions"`
	GroupByExpressions []string `json:"groupByExpressions"`
	Aggregates         []string `json:"aggregates"`
	HasSelectValue     bool     `json:"hasSelectValue"`
}

// Plan returns the query's plan.
func (q *Query) Plan() Plan {
	p := Plan{DistinctType: "None", OrderBy: []string{}, OrderByExpressions: []string{},
		GroupByExpressions: []string{}, Aggregates: []string{}, HasSelectValue: q.sel.value != nil}
	if q.top >= 0 {
		p.Top = ptr(q.top)
	}
	if q.limit >= 0 {
		p.Offset, p.Limit = ptr(q.offset), ptr(q.limit)
	}
	if q.orderBy != nil {
		dir := "Ascending"
		if q.orderBy.desc {
			dir = "Descending"
		}
		p.OrderBy = []string{dir}
		p.OrderByExpressions = []string{q.orderBy.path.String()}
	}
	if q.sel.agg {
		p.Aggregates = []string{"Count"}
	}
	return p
}

func ptr(n int) *int { return &n }

// Aggregate reports whether the query computes one aggregate result.
func (q *Query) Aggregate() bool { return q.sel.agg }

// PassThrough reports whether the results of the query over a union of
// document sets are the union of its results over each set, in order:
// true for filters and projections, and for a SELECT VALUE aggregate
// when a partial result per set is acceptable (as Cosmos DB's gateway
// answers it). Everything else (TOP, ORDER BY, OFFSET LIMIT, aggregates
// without VALUE) needs a client-side query engine across partitions.
func (p Plan) PassThrough() bool {
	return p.Top == nil && p.Limit == nil && len(p.OrderBy) == 0 &&
		(len(p.Aggregates) == 0 || p.HasSelectValue)
}

// FilterPaths returns the document paths the WHERE clause reads, as index
// paths ("/a/b/?"), in the order they appear.
func (q *Query) FilterPaths() []string {
	var out []string
	walk(q.where, func(e expr) {
		if p, ok := e.(*pathExpr); ok && len(p.steps) > 0 {
			out = append(out, p.indexPath())
		}
	})
	return out
}

// String writes the path as Cosmos SQL: c.a["b"][0].
func (e *pathExpr) String() string {
	var b strings.Builder
	b.WriteString(e.root)
	for _, s := range e.steps {
		switch v := s.(type) {
		case string:
			b.WriteString("." + v)
		default:
			b.WriteString("[" + formatValue(v) + "]")
		}
	}
	return b.String()
}

func (e *pathExpr) indexPath() string {
	var b strings.Builder
	for _, s := range e.steps {
		if v, ok := s.(string); ok {
			b.WriteString("/" + v)
		} else {
			b.WriteString("/[]")
		}
	}
	return b.String() + "/?"
}

// walk calls fn on e and every expression below it.
func walk(e expr, fn func(expr)) {
	if e == nil {
		return
	}
	fn(e)
	for _, child := range children(e) {
		walk(child, fn)
	}
}

func children(e expr) []expr {
	switch x := e.(type) {
	case notExpr:
		return []expr{x.x}
	case logicalExpr:
		return []expr{x.l, x.r}
	case compareExpr:
		return []expr{x.l, x.r}
	case inExpr:
		return append([]expr{x.x}, x.list...)
	case callExpr:
		return x.args
	case arrayExpr:
		return x.elems
	case objectExpr:
		out := make([]expr, len(x.props))
		for i, p := range x.props {
			out[i] = p.expr
		}
		return out
	}
	return nil
}

// Equalities returns the constants the WHERE clause requires document
// paths to equal, for the terms of its top-level AND of `path = constant`
// (either way round), keyed by the path's property names joined with "/"
// ("customer/id"). The gateway uses them to send a query whose filter fixes
// the partition key to that one partition.
func (q *Query) Equalities() map[string]any {
	out := map[string]any{}
	var visit func(e expr)
	visit = func(e expr) {
		switch x := e.(type) {
		case logicalExpr:
			if x.and {
				visit(x.l)
				visit(x.r)
			}
		case compareExpr:
			if x.op != "=" {
				return
			}
			if name, v, ok := equality(x.l, x.r); ok {
				out[name] = v
			} else if name, v, ok := equality(x.r, x.l); ok {
				out[name] = v
			}
		}
	}
	if q.where != nil {
		visit(q.where)
	}
	return out
}

func equality(l, r expr) (string, any, bool) {
	path, ok := l.(*pathExpr)
	lit, isLit := r.(literal)
	if !ok || !isLit || len(path.steps) == 0 || lit.v == undefined {
		return "", nil, false
	}
	names := make([]string, len(path.steps))
	for i, s := range path.steps {
		if names[i], ok = s.(string); !ok {
			return "", nil, false
		}
	}
	return strings.Join(names, "/"), lit.v, true
}
