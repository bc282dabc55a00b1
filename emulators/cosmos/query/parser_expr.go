package query

import (
	"strings"
)

// expr parses OR, the loosest binding operator.
func (p *parser) expr() (expr, error) {
	l, err := p.and()
	for err == nil && p.acceptKeyword("OR") {
		var r expr
		r, err = p.and()
		l = logicalExpr{and: false, l: l, r: r}
	}
	return l, err
}

func (p *parser) and() (expr, error) {
	l, err := p.not()
	for err == nil && p.acceptKeyword("AND") {
		var r expr
		r, err = p.not()
		l = logicalExpr{and: true, l: l, r: r}
	}
	return l, err
}

func (p *parser) not() (expr, error) {
	if !p.acceptKeyword("NOT") {
		return p.comparison()
	}
	x, err := p.not()
	return notExpr{x: x}, err
}

var comparisonOps = map[string]bool{"=": true, "!=": true, "<>": true, "<": true, "<=": true, ">": true, ">=": true}

// comparison parses `operand [op operand | [NOT] IN (...)]`.
func (p *parser) comparison() (expr, error) {
	l, err := p.operand()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	switch {
	case t.kind == tokPunct && comparisonOps[t.text]:
		p.next()
		r, err := p.operand()
		return compareExpr{op: t.text, l: l, r: r}, err
	case isKeyword(t, "IN"):
		p.next()
		return p.in(l, false)
	case isKeyword(t, "NOT") && isKeyword(p.peekAt(1), "IN"):
		p.i += 2
		return p.in(l, true)
	case isKeyword(t, "BETWEEN") || isKeyword(t, "LIKE"):
		return nil, errorAt(t.pos, "%s is not supported", strings.ToUpper(t.text))
	}
	return l, nil
}

func (p *parser) in(x expr, negate bool) (expr, error) {
	open := p.peek()
	if err := p.expectPunct("("); err != nil {
		return nil, err
	}
	if isKeyword(p.peek(), "SELECT") {
		return nil, errorAt(open.pos, "subqueries are not supported")
	}
	list, err := p.exprList(")")
	if err == nil && len(list) == 0 {
		err = errorAt(p.toks[p.i-1].pos, "IN needs at least one value")
	}
	return inExpr{x: x, list: list, negate: negate}, err
}

// exprList parses `[expr {"," expr}] close`, the opening token consumed.
func (p *parser) exprList(close string) ([]expr, error) {
	var list []expr
	if p.acceptPunct(close) {
		return list, nil
	}
	for {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		list = append(list, e)
		if !p.acceptPunct(",") {
			return list, p.expectPunct(close)
		}
	}
}
