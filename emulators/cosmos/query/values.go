package query

import (
	"encoding/json"
	"fmt"
	"strings"
)

// undefinedValue is the Cosmos DB "undefined": the value of a missing
// property and of any comparison between values of different types.
type undefinedValue struct{}

var undefined any = undefinedValue{}

type kind int

// Kinds in ORDER BY rank order.
const (
	kindUndefined kind = iota
	kindNull
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

func kindOf(v any) kind {
	switch v.(type) {
	case nil:
		return kindNull
	case bool:
		return kindBool
	case string:
		return kindString
	case []any:
		return kindArray
	case map[string]any:
		return kindObject
	}
	if _, ok := toNumber(v); ok {
		return kindNumber
	}
	return kindUndefined
}

// toNumber accepts float64, as encoding/json decodes, and the other Go
// numeric types a caller may build documents or parameters with.
func toNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// equal reports whether a and b are equal; ok is false when the comparison
// is undefined (either side undefined, or different kinds).
func equal(a, b any) (eq, ok bool) {
	ka, kb := kindOf(a), kindOf(b)
	if ka != kb || ka == kindUndefined {
		return false, false
	}
	return deepEqual(a, b), true
}

func deepEqual(a, b any) bool {
	if k := kindOf(a); k != kindOf(b) || k == kindUndefined {
		return false
	}
	switch x := a.(type) {
	case []any:
		return arraysEqual(x, b.([]any))
	case map[string]any:
		return objectsEqual(x, b.(map[string]any))
	}
	return compareScalars(a, b) == 0
}

func arraysEqual(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !deepEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

func objectsEqual(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, av := range a {
		bv, found := b[k]
		if !found || !deepEqual(av, bv) {
			return false
		}
	}
	return true
}

// order compares a and b for < <= > >=; ok is false when the comparison is
// undefined (different kinds, undefined, arrays or objects).
func order(a, b any) (cmp int, ok bool) {
	ka, kb := kindOf(a), kindOf(b)
	if ka != kb || ka == kindUndefined || ka >= kindArray {
		return 0, false
	}
	return compareScalars(a, b), true
}

// compareScalars orders two values of the same scalar kind.
func compareScalars(a, b any) int {
	switch x := a.(type) {
	case nil:
		return 0
	case bool:
		return compareBools(x, b.(bool))
	case string:
		return strings.Compare(x, b.(string))
	}
	fa, _ := toNumber(a)
	fb, _ := toNumber(b)
	switch {
	case fa < fb:
		return -1
	case fa > fb:
		return 1
	}
	return 0
}

func compareBools(a, b bool) int {
	switch {
	case a == b:
		return 0
	case b:
		return -1
	}
	return 1
}

// jsonValue returns v as encoding/json would decode it. Values that already
// are JSON kinds are returned as they are; others (a []string, a struct) go
// through a JSON round trip.
func jsonValue(v any) (any, error) {
	if kindOf(v) != kindUndefined {
		return v, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("value of type %T is not JSON: %w", v, err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("value of type %T is not JSON: %w", v, err)
	}
	return out, nil
}

// formatValue renders v as JSON for error messages.
func formatValue(v any) string {
	if b, err := json.Marshal(v); err == nil {
		return string(b)
	}
	return fmt.Sprintf("%v", v)
}
