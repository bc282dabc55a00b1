package query

import (
	"fmt"
	"strings"
)

// Parse parses a Cosmos SQL query. params are keyed "@name" with values
// decoded by encoding/json (float64, string, bool, nil, []any,
// map[string]any). Any syntax or feature it does not support is a
// *ParseError whose message names the problem, never a wrong answer.
func Parse(text string, params map[string]any) (*Query, error) {
	toks, err := lex(text)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, params: params}
	q, err := p.query()
	if err != nil {
		return nil, err
	}
	return q, nil
}

type parser struct {
	toks   []token
	i      int
	params map[string]any
	paths  []*pathExpr // every path parsed, checked against the alias
}

// keywords cannot name an alias, a projection or a path root.
var keywords = map[string]bool{
	"AND": true, "ARRAY": true, "AS": true, "ASC": true, "BETWEEN": true,
	"BY": true, "DESC": true, "DISTINCT": true, "ESCAPE": true, "EXISTS": true,
	"FALSE": true, "FROM": true, "GROUP": true, "HAVING": true, "IN": true,
	"JOIN": true, "LIKE": true, "LIMIT": true, "NOT": true, "NULL": true,
	"OFFSET": true, "OR": true, "ORDER": true, "SELECT": true, "TOP": true,
	"TRUE": true, "UDF": true, "UNDEFINED": true, "VALUE": true, "WHERE": true,
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) peekAt(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1] // EOF
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func isKeyword(t token, kw string) bool {
	return t.kind == tokIdent && strings.EqualFold(t.text, kw)
}

func isPunct(t token, s string) bool { return t.kind == tokPunct && t.text == s }

func (p *parser) acceptKeyword(kw string) bool {
	if isKeyword(p.peek(), kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) acceptPunct(s string) bool {
	if isPunct(p.peek(), s) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectKeyword(kw string) error {
	if !p.acceptKeyword(kw) {
		return p.unexpected(p.peek(), kw)
	}
	return nil
}

func (p *parser) expectPunct(s string) error {
	if !p.acceptPunct(s) {
		return p.unexpected(p.peek(), fmt.Sprintf("%q", s))
	}
	return nil
}

// unexpected reports t where want was expected.
func (p *parser) unexpected(t token, want string) error {
	return errorAt(t.pos, "expected %s, found %s", want, describe(t))
}

func describe(t token) string {
	switch t.kind {
	case tokEOF:
		return "end of query"
	case tokString:
		return fmt.Sprintf("string %q", t.text)
	case tokNumber:
		return "number " + t.text
	}
	return fmt.Sprintf("%q", t.text)
}

func (p *parser) query() (*Query, error) {
	q := &Query{top: -1, limit: -1}
	if err := p.selectOrFilter(q); err != nil {
		return nil, err
	}
	if err := p.clauses(q); err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.trailing(t)
	}
	return q, p.checkScope(q)
}

// selectOrFilter parses the SELECT clause, or accepts a query that starts at
// FROM (a filter predicate) as SELECT *.
func (p *parser) selectOrFilter(q *Query) error {
	t := p.peek()
	switch {
	case isKeyword(t, "SELECT"):
		return p.selectClause(q)
	case isKeyword(t, "FROM"):
		q.sel.star = true
		return nil
	}
	return p.unexpected(t, "SELECT or FROM")
}

// clauses parses everything after SELECT, in the order Cosmos DB requires.
func (p *parser) clauses(q *Query) error {
	steps := []func(*Query) error{p.fromClause, p.whereClause, p.groupByClause, p.orderByClause, p.offsetLimitClause}
	for _, step := range steps {
		if err := step(q); err != nil {
			return err
		}
	}
	return nil
}

// trailing reports a token left over after a complete query.
func (p *parser) trailing(t token) error {
	for _, kw := range []string{"JOIN", "GROUP", "HAVING", "LIMIT"} {
		if isKeyword(t, kw) {
			return p.unsupportedClause(t)
		}
	}
	return errorAt(t.pos, "unexpected %s", describe(t))
}

func (p *parser) unsupportedClause(t token) error {
	switch strings.ToUpper(t.text) {
	case "JOIN":
		return errorAt(t.pos, "JOIN is not supported")
	case "GROUP", "HAVING":
		return clauseError(t.pos, "GROUP BY")
	case "LIMIT":
		return errorAt(t.pos, "LIMIT without OFFSET is not supported: use OFFSET 0 LIMIT n or TOP n")
	}
	return errorAt(t.pos, "unexpected %s", describe(t))
}

// checkScope checks that every path starts at the FROM alias, and that the
// clauses that need documents have a FROM clause.
func (p *parser) checkScope(q *Query) error {
	for _, path := range p.paths {
		if q.alias == "" {
			return errorAt(path.pos, "identifier %q needs a FROM clause", path.root)
		}
		if path.root != q.alias {
			return errorAt(path.pos, "identifier %q is not the FROM alias %q", path.root, q.alias)
		}
	}
	if q.alias == "" && q.sel.star {
		return errorAt(0, "SELECT * needs a FROM clause")
	}
	return nil
}
