package query

import (
	"fmt"
	"strings"
)

func (p *parser) selectClause(q *Query) error {
	p.next() // SELECT
	if t := p.peek(); isKeyword(t, "DISTINCT") {
		return clauseError(t.pos, "DISTINCT")
	}
	if p.acceptKeyword("TOP") {
		n, err := p.count("TOP")
		if err != nil {
			return err
		}
		q.top = n
	}
	switch {
	case p.acceptKeyword("VALUE"):
		return p.selectValue(q)
	case p.acceptPunct("*"):
		q.sel.star = true
		return nil
	}
	return p.selectItems(q)
}

func (p *parser) selectValue(q *Query) error {
	e, err := p.selectExpr()
	if err != nil {
		return err
	}
	q.sel.value = e
	_, q.sel.agg = e.(countExpr)
	if t := p.peek(); isPunct(t, ",") {
		return errorAt(t.pos, "SELECT VALUE takes exactly one expression")
	}
	return nil
}

func (p *parser) selectItems(q *Query) error {
	names := map[string]bool{}
	anonymous := 0
	for {
		start := p.peek()
		item, err := p.projection()
		if err != nil {
			return err
		}
		if item.name == "" {
			anonymous++
			item.name = fmt.Sprintf("$%d", anonymous)
		}
		if names[item.name] {
			return errorAt(start.pos, "duplicate projection name %q", item.name)
		}
		names[item.name] = true
		q.sel.items = append(q.sel.items, item)
		if !p.acceptPunct(",") {
			return p.checkAggregates(q)
		}
	}
}

// checkAggregates rejects mixing aggregates with plain projections, which
// would need GROUP BY.
func (p *parser) checkAggregates(q *Query) error {
	aggs := 0
	for _, item := range q.sel.items {
		if _, ok := item.expr.(countExpr); ok {
			aggs++
		}
	}
	if aggs > 0 && aggs < len(q.sel.items) {
		return errorAt(p.peek().pos, "mixing aggregates with other projections requires GROUP BY, which is not supported")
	}
	q.sel.agg = aggs > 0
	return nil
}

// projection parses `expr [[AS] name]`. An unnamed path is named after its
// last property; other unnamed items get "" and are numbered by the caller.
func (p *parser) projection() (projection, error) {
	e, err := p.selectExpr()
	if err != nil {
		return projection{}, err
	}
	name, err := p.projectionAlias()
	if err != nil || name != "" {
		return projection{expr: e, name: name}, err
	}
	return projection{expr: e, name: inferName(e)}, nil
}

func (p *parser) projectionAlias() (string, error) {
	explicit := p.acceptKeyword("AS")
	t := p.peek()
	if t.kind == tokIdent && !keywords[strings.ToUpper(t.text)] {
		p.next()
		return t.text, nil
	}
	if explicit {
		return "", p.unexpected(t, "a name after AS")
	}
	return "", nil
}

func inferName(e expr) string {
	path, ok := e.(*pathExpr)
	if !ok {
		return ""
	}
	if len(path.steps) == 0 {
		return path.root
	}
	key, _ := path.steps[len(path.steps)-1].(string)
	return key
}

// selectExpr parses a SELECT item, which alone may be the COUNT aggregate.
func (p *parser) selectExpr() (expr, error) {
	t := p.peek()
	if !isKeyword(t, "COUNT") || !isPunct(p.peekAt(1), "(") {
		return p.expr()
	}
	p.i += 2
	arg, err := p.expr()
	if err == nil {
		err = p.expectPunct(")")
	}
	if err != nil {
		return nil, err
	}
	if next := p.peek(); next.kind == tokPunct && next.text != "," {
		return nil, errorAt(t.pos, "COUNT is supported only as a whole SELECT item")
	}
	return countExpr{arg: arg}, nil
}
