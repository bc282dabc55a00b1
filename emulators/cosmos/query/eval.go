package query

func (e literal) eval(any) any { return e.v }

func (e *pathExpr) eval(root any) any {
	v := root
	for _, step := range e.steps {
		v = member(v, step)
	}
	return v
}

// member reads v[step]; anything but a key of an object or an index inside
// an array is undefined.
func member(v, step any) any {
	switch s := step.(type) {
	case string:
		if obj, ok := v.(map[string]any); ok {
			if m, found := obj[s]; found {
				return m
			}
		}
	case int:
		if arr, ok := v.([]any); ok && s >= 0 && s < len(arr) {
			return arr[s]
		}
	}
	return undefined
}

func (e notExpr) eval(root any) any {
	if b, ok := e.x.eval(root).(bool); ok {
		return !b
	}
	return undefined
}

// eval applies three-valued logic: false AND x is false, true OR x is true,
// and any other non-boolean operand makes the result undefined.
func (e logicalExpr) eval(root any) any {
	l, lok := e.l.eval(root).(bool)
	if lok && l != e.and {
		return l
	}
	r, rok := e.r.eval(root).(bool)
	if rok && r != e.and {
		return r
	}
	if lok && rok {
		return e.and
	}
	return undefined
}

func (e compareExpr) eval(root any) any {
	l, r := e.l.eval(root), e.r.eval(root)
	switch e.op {
	case "=":
		return boolOrUndefined(equal(l, r))
	case "!=", "<>":
		// Cosmos DB compares objects and arrays with = only.
		eq, ok := equal(l, r)
		return boolOrUndefined(!eq, ok && kindOf(l) < kindArray)
	}
	cmp, ok := order(l, r)
	return boolOrUndefined(compareHolds(e.op, cmp), ok)
}

func compareHolds(op string, cmp int) bool {
	switch op {
	case "<":
		return cmp < 0
	case "<=":
		return cmp <= 0
	case ">":
		return cmp > 0
	}
	return cmp >= 0 // ">="
}

func boolOrUndefined(b, ok bool) any {
	if !ok {
		return undefined
	}
	return b
}

// eval is true when x equals an item of the list, false when x is defined
// and equals none, and undefined when x is undefined.
func (e inExpr) eval(root any) any {
	x := e.x.eval(root)
	if x == undefined {
		return undefined
	}
	for _, item := range e.list {
		if eq, _ := equal(x, item.eval(root)); eq {
			return !e.negate
		}
	}
	return e.negate
}

func (e callExpr) eval(root any) any {
	args := make([]any, len(e.args))
	for i, a := range e.args {
		args[i] = a.eval(root)
	}
	return e.fn.call(args)
}

// eval leaves undefined elements out, as Cosmos DB does.
func (e arrayExpr) eval(root any) any {
	out := make([]any, 0, len(e.elems))
	for _, el := range e.elems {
		if v := el.eval(root); v != undefined {
			out = append(out, v)
		}
	}
	return out
}

// eval leaves undefined properties out.
func (e objectExpr) eval(root any) any {
	return buildObject(e.props, root)
}

func buildObject(props []projection, root any) map[string]any {
	obj := make(map[string]any, len(props))
	for _, p := range props {
		if v := p.expr.eval(root); v != undefined {
			obj[p.name] = v
		}
	}
	return obj
}

// eval reports whether the current document counts.
func (e countExpr) eval(root any) any {
	return e.arg.eval(root) != undefined
}
