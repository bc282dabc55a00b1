package query

import (
	"fmt"
	"math"
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
		return errorAt(t.pos, "GROUP BY is not supported")
	case "LIMIT":
		return errorAt(t.pos, "LIMIT without OFFSET is not supported: use OFFSET 0 LIMIT n or TOP n")
	}
	return errorAt(t.pos, "unexpected %s", describe(t))
}

func (p *parser) selectClause(q *Query) error {
	p.next() // SELECT
	if t := p.peek(); isKeyword(t, "DISTINCT") {
		return errorAt(t.pos, "DISTINCT is not supported")
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
		item, err := p.projection()
		if err != nil {
			return err
		}
		if item.name == "" {
			anonymous++
			item.name = fmt.Sprintf("$%d", anonymous)
		}
		if names[item.name] {
			return errorAt(p.peek().pos, "duplicate projection name %q", item.name)
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
		return 0, errorAt(t.pos, "%s needs a non-negative integer, got %v", clause, v)
	}
	return int(n), nil
}

// param looks up a parameter, keyed "@name" (or, leniently, "name").
func (p *parser) param(t token) (any, error) {
	if v, ok := p.params[t.text]; ok {
		return v, nil
	}
	if v, ok := p.params[strings.TrimPrefix(t.text, "@")]; ok {
		return v, nil
	}
	return nil, errorAt(t.pos, "parameter %s is not defined", t.text)
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
