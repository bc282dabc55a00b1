package query

import (
	"fmt"
	"math"
	"strings"
)

// unsupportedOps are operators Cosmos DB has and this package does not.
var unsupportedOps = map[string]bool{
	"+": true, "-": true, "*": true, "/": true, "%": true, "||": true, "??": true,
	"?": true, "&": true, "|": true, "^": true, "<<": true, ">>": true,
}

// operand parses a primary expression and rejects a following arithmetic,
// string-concatenation or conditional operator.
func (p *parser) operand() (expr, error) {
	e, err := p.primary()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind == tokPunct && unsupportedOps[t.text] {
		return nil, errorAt(t.pos, "unsupported operator %q", t.text)
	}
	return e, nil
}

func (p *parser) primary() (expr, error) {
	t := p.peek()
	switch t.kind {
	case tokNumber:
		p.next()
		return literal{v: t.num}, nil
	case tokString:
		p.next()
		return literal{v: t.text}, nil
	case tokParam:
		p.next()
		v, err := p.param(t)
		return literal{v: v}, err
	case tokIdent:
		return p.identifier()
	case tokPunct:
		return p.punctPrimary()
	}
	return nil, p.unexpected(t, "an expression")
}

func (p *parser) punctPrimary() (expr, error) {
	t := p.next()
	switch t.text {
	case "(":
		return p.parenthesized(t)
	case "[":
		elems, err := p.exprList("]")
		return arrayExpr{elems: elems}, err
	case "-":
		if n := p.peek(); n.kind == tokNumber {
			p.next()
			return literal{v: -n.num}, nil
		}
		return nil, errorAt(t.pos, "unsupported operator %q", t.text)
	case "{":
		return p.object()
	case "~", "!":
		return nil, errorAt(t.pos, "unsupported operator %q", t.text)
	}
	return nil, p.unexpected(t, "an expression")
}

// object parses `{ [name ":" expr {"," name ":" expr}] }`, the "{"
// consumed; a name is an identifier or a string.
func (p *parser) object() (expr, error) {
	obj := objectExpr{}
	if p.acceptPunct("}") {
		return obj, nil
	}
	for {
		t := p.next()
		if t.kind != tokIdent && t.kind != tokString {
			return nil, p.unexpected(t, "a property name in an object literal")
		}
		if obj.has(t.text) {
			return nil, errorAt(t.pos, "duplicate property %q in object literal", t.text)
		}
		if err := p.expectPunct(":"); err != nil {
			return nil, err
		}
		v, err := p.expr()
		if err != nil {
			return nil, err
		}
		obj.props = append(obj.props, projection{expr: v, name: t.text})
		if !p.acceptPunct(",") {
			return obj, p.expectPunct("}")
		}
	}
}

func (p *parser) parenthesized(open token) (expr, error) {
	if isKeyword(p.peek(), "SELECT") {
		return nil, errorAt(open.pos, "subqueries are not supported")
	}
	e, err := p.expr()
	if err != nil {
		return nil, err
	}
	return e, p.expectPunct(")")
}

var constants = map[string]any{"TRUE": true, "FALSE": false, "NULL": nil, "UNDEFINED": undefined}

// identifier parses a constant, a function call or a property path.
func (p *parser) identifier() (expr, error) {
	t := p.next()
	upper := strings.ToUpper(t.text)
	if v, ok := constants[upper]; ok {
		return literal{v: v}, nil
	}
	next := p.peek()
	switch {
	case upper == "UDF" && isPunct(next, "."):
		return nil, errorAt(t.pos, "user-defined functions are not supported")
	case (upper == "EXISTS" || upper == "ARRAY") && isPunct(next, "("):
		return nil, errorAt(t.pos, "subqueries (%s) are not supported", upper)
	case isPunct(next, "("):
		return p.call(t)
	case keywords[upper]:
		return nil, p.unexpected(t, "an expression")
	}
	return p.path(t)
}

func (p *parser) call(name token) (expr, error) {
	upper := strings.ToUpper(name.text)
	fn, ok := functions[upper]
	if !ok {
		return nil, unsupportedFunction(name, upper)
	}
	p.next() // (
	args, err := p.exprList(")")
	if err != nil {
		return nil, err
	}
	if len(args) < fn.minArgs || len(args) > fn.maxArgs {
		return nil, errorAt(name.pos, "function %s takes %s, got %d", upper, arity(fn), len(args))
	}
	return callExpr{fn: fn, args: args}, nil
}

func unsupportedFunction(name token, upper string) error {
	switch upper {
	case "COUNT":
		return errorAt(name.pos, "COUNT is supported only as a whole SELECT item")
	case "SUM", "AVG", "MIN", "MAX":
		return errorAt(name.pos, "unsupported aggregate function %q", upper)
	}
	return errorAt(name.pos, "unsupported function %q", upper)
}

func arity(fn function) string {
	if fn.minArgs == fn.maxArgs {
		return fmt.Sprintf("%d argument(s)", fn.minArgs)
	}
	return fmt.Sprintf("%d to %d arguments", fn.minArgs, fn.maxArgs)
}

// path parses `root {"." name | "[" key "]"}`; the root is checked against
// the FROM alias once the whole query is parsed.
func (p *parser) path(root token) (expr, error) {
	path := &pathExpr{root: root.text, pos: root.pos}
	p.paths = append(p.paths, path)
	for {
		switch {
		case p.acceptPunct("."):
			t := p.next()
			if t.kind != tokIdent {
				return nil, p.unexpected(t, "a property name after \".\"")
			}
			path.steps = append(path.steps, t.text)
		case p.acceptPunct("["):
			step, err := p.index()
			if err != nil {
				return nil, err
			}
			path.steps = append(path.steps, step)
		default:
			return path, nil
		}
	}
}

// index parses `key "]"` where key is a string, an integer or a parameter
// holding either.
func (p *parser) index() (any, error) {
	t := p.next()
	var v any
	switch t.kind {
	case tokString, tokNumber:
		v = t.text
		if t.kind == tokNumber {
			v = t.num
		}
	case tokParam:
		pv, err := p.param(t)
		if err != nil {
			return nil, err
		}
		v = pv
	default:
		return nil, p.unexpected(t, "a property name or array index in \"[]\"")
	}
	step, err := indexStep(t, v)
	if err != nil {
		return nil, err
	}
	return step, p.expectPunct("]")
}

func indexStep(t token, v any) (any, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	n, ok := toNumber(v)
	if !ok || n < 0 || n > math.MaxInt32 || n != math.Trunc(n) {
		return nil, errorAt(t.pos, "array index must be a non-negative integer, got %s", formatValue(v))
	}
	return int(n), nil
}
