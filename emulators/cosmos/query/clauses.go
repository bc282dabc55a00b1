package query

import (
	"math"
	"strings"
)

func (p *parser) fromClause(q *Query) error {
	if !p.acceptKeyword("FROM") {
		return nil
	}
	t, err := p.name("a container name or alias after FROM")
	if err != nil {
		return err
	}
	q.alias = t.text
	if err := p.checkFromSource(); err != nil {
		return err
	}
	if alias, ok, err := p.fromAlias(); ok || err != nil {
		q.alias = alias.text
		return err
	}
	return nil
}

// checkFromSource rejects FROM forms other than a plain container name.
func (p *parser) checkFromSource() error {
	t := p.peek()
	switch {
	case isKeyword(t, "IN"):
		return errorAt(t.pos, "FROM ... IN (array iteration) is not supported")
	case isPunct(t, ".") || isPunct(t, "["):
		return errorAt(t.pos, "FROM a sub-document path is not supported")
	case isKeyword(t, "JOIN"):
		return errorAt(t.pos, "JOIN is not supported")
	}
	return nil
}

func (p *parser) fromAlias() (token, bool, error) {
	if p.acceptKeyword("AS") {
		t, err := p.name("an alias after AS")
		return t, true, err
	}
	t := p.peek()
	if t.kind == tokIdent && !keywords[strings.ToUpper(t.text)] {
		p.next()
		return t, true, nil
	}
	return token{}, false, nil
}

// name consumes an identifier that is not a keyword.
func (p *parser) name(want string) (token, error) {
	t := p.peek()
	if isPunct(t, "(") && isKeyword(p.peekAt(1), "SELECT") {
		return t, errorAt(t.pos, "subqueries are not supported")
	}
	if t.kind != tokIdent || keywords[strings.ToUpper(t.text)] {
		return t, p.unexpected(t, want)
	}
	p.next()
	return t, nil
}

func (p *parser) whereClause(q *Query) error {
	if !p.acceptKeyword("WHERE") {
		return nil
	}
	e, err := p.expr()
	q.where = e
	return err
}

func (p *parser) groupByClause(*Query) error {
	if t := p.peek(); isKeyword(t, "GROUP") || isKeyword(t, "JOIN") {
		return p.unsupportedClause(t)
	}
	return nil
}

func (p *parser) orderByClause(q *Query) error {
	if !p.acceptKeyword("ORDER") {
		return nil
	}
	if err := p.expectKeyword("BY"); err != nil {
		return err
	}
	t := p.peek()
	e, err := p.operand()
	if err != nil {
		return err
	}
	path, ok := e.(*pathExpr)
	if !ok {
		return errorAt(t.pos, "ORDER BY supports only a property path")
	}
	q.orderBy = &orderBy{path: path}
	if !p.acceptKeyword("ASC") {
		q.orderBy.desc = p.acceptKeyword("DESC")
	}
	if t := p.peek(); isPunct(t, ",") {
		return errorAt(t.pos, "ORDER BY on more than one property is not supported")
	}
	return nil
}

func (p *parser) offsetLimitClause(q *Query) error {
	if !p.acceptKeyword("OFFSET") {
		return nil
	}
	offset, err := p.count("OFFSET")
	if err != nil {
		return err
	}
	if err := p.expectKeyword("LIMIT"); err != nil {
		return err
	}
	limit, err := p.count("LIMIT")
	q.offset, q.limit = offset, limit
	return err
}

// count parses the non-negative integer argument of TOP, OFFSET or LIMIT: a
// number literal or a parameter.
func (p *parser) count(clause string) (int, error) {
	t := p.next()
	var v any
	switch t.kind {
	case tokNumber:
		v = t.num
	case tokParam:
		pv, err := p.param(t)
		if err != nil {
			return 0, err
		}
		v = pv
	default:
		return 0, p.unexpected(t, "a number after "+clause)
	}
	n, ok := toNumber(v)
	if !ok || n < 0 || n != math.Trunc(n) || n > math.MaxInt32 {
		return 0, errorAt(t.pos, "%s needs a non-negative integer, got %s", clause, formatValue(v))
	}
	return int(n), nil
}

// param looks up a parameter, keyed "@name" (or, leniently, "name").
func (p *parser) param(t token) (any, error) {
	v, ok := p.params[t.text]
	if !ok {
		v, ok = p.params[strings.TrimPrefix(t.text, "@")]
	}
	if !ok {
		return nil, errorAt(t.pos, "parameter %s is not defined", t.text)
	}
	v, err := jsonValue(v)
	if err != nil {
		return nil, errorAt(t.pos, "parameter %s: %v", t.text, err)
	}
	return v, nil
}
