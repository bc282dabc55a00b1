package query

// Query is a parsed query, ready to run against any number of documents.
type Query struct {
	sel     selectClause
	alias   string // "" when the query has no FROM clause
	where   expr   // nil when every document matches
	orderBy *orderBy
	top     int // -1 when absent
	offset  int // 0 when absent
	limit   int // -1 when absent
}

type selectClause struct {
	star  bool         // SELECT * (also a bare FROM ... WHERE ...)
	value expr         // SELECT VALUE expr, or nil
	items []projection // SELECT a, b AS x
	agg   bool         // the value or the items are aggregates
}

type projection struct {
	expr expr
	name string
}

type orderBy struct {
	path *pathExpr
	desc bool
}

// expr is an expression node. eval returns a JSON value or undefined.
type expr interface {
	eval(root any) any
}

type literal struct{ v any }

// pathExpr reads root.steps...; each step is a string key or an int index.
type pathExpr struct {
	root  string
	steps []any
	pos   int
}

type notExpr struct{ x expr }

type logicalExpr struct {
	and  bool // AND, else OR
	l, r expr
}

type compareExpr struct {
	op   string
	l, r expr
}

type inExpr struct {
	x      expr
	list   []expr
	negate bool
}

type callExpr struct {
	fn   function
	args []expr
}

type arrayExpr struct{ elems []expr }

// objectExpr is an object literal; props keep their written order.
type objectExpr struct{ props []projection }

func (e objectExpr) has(name string) bool {
	for _, p := range e.props {
		if p.name == name {
			return true
		}
	}
	return false
}

// countExpr is the COUNT aggregate; it is evaluated per document to decide
// whether the document counts, and only ever appears as a whole SELECT item.
type countExpr struct{ arg expr }
