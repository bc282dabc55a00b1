package query

import "strings"

// function is a supported system function. call receives evaluated
// arguments, any of which may be undefined.
type function struct {
	name             string
	minArgs, maxArgs int
	call             func(args []any) any
}

var functions = map[string]function{
	"IS_DEFINED":     {name: "IS_DEFINED", minArgs: 1, maxArgs: 1, call: isDefined},
	"ARRAY_CONTAINS": {name: "ARRAY_CONTAINS", minArgs: 2, maxArgs: 3, call: arrayContains},
	"STARTSWITH":     {name: "STARTSWITH", minArgs: 2, maxArgs: 3, call: startsWith},
	"IS_NULL":        typeCheck("IS_NULL", kindNull),
	"IS_BOOL":        typeCheck("IS_BOOL", kindBool),
	"IS_NUMBER":      typeCheck("IS_NUMBER", kindNumber),
	"IS_STRING":      typeCheck("IS_STRING", kindString),
	"IS_ARRAY":       typeCheck("IS_ARRAY", kindArray),
	"IS_OBJECT":      typeCheck("IS_OBJECT", kindObject),
	"IS_PRIMITIVE":   typeCheck("IS_PRIMITIVE", kindNull, kindBool, kindNumber, kindString),
}

func isDefined(args []any) any { return args[0] != undefined }

// typeCheck is a type-checking function: true when its argument is of one
// of the kinds, false otherwise (undefined included).
func typeCheck(name string, kinds ...kind) function {
	return function{name: name, minArgs: 1, maxArgs: 1, call: func(args []any) any {
		k := kindOf(args[0])
		for _, want := range kinds {
			if k == want {
				return true
			}
		}
		return false
	}}
}

// arrayContains is ARRAY_CONTAINS(arr, v [, partial]): with partial true an
// object v matches an element holding at least v's properties.
func arrayContains(args []any) any {
	arr, ok := args[0].([]any)
	partial, pok := optionalBool(args, 2)
	if !ok || !pok {
		return undefined
	}
	for _, el := range arr {
		if deepEqual(el, args[1]) || partial && containsObject(el, args[1]) {
			return true
		}
	}
	return false
}

func containsObject(el, v any) bool {
	elObj, ok1 := el.(map[string]any)
	want, ok2 := v.(map[string]any)
	if !ok1 || !ok2 {
		return false
	}
	for k, wv := range want {
		if ev, found := elObj[k]; !found || !deepEqual(ev, wv) {
			return false
		}
	}
	return true
}

// startsWith is STARTSWITH(s, prefix [, ignoreCase]).
func startsWith(args []any) any {
	s, ok1 := args[0].(string)
	prefix, ok2 := args[1].(string)
	ignoreCase, ok3 := optionalBool(args, 2)
	if !ok1 || !ok2 || !ok3 {
		return undefined
	}
	if ignoreCase {
		s, prefix = strings.ToLower(s), strings.ToLower(prefix)
	}
	return strings.HasPrefix(s, prefix)
}

// optionalBool returns args[i] when it is a bool, false when it is absent,
// and ok false when it is present but not a bool.
func optionalBool(args []any, i int) (b, ok bool) {
	if i >= len(args) {
		return false, true
	}
	b, ok = args[i].(bool)
	return b, ok
}
