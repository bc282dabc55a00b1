package cosmos

import (
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/ordersflow/orderpipeline/emulators/cosmos/query"
)

// patchSpec is a partial document update: a body of
// {"condition": "FROM c WHERE ...", "operations": [{"op","path","value"}]}.
type patchSpec struct {
	Condition  string    `json:"condition"`
	Operations []patchOp `json:"operations"`
}

type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

func decodePatch(raw []byte) (*patchSpec, *apiError) {
	var p patchSpec
	if err := unmarshal(raw, &p); err != nil {
		return nil, errBadRequest("The patch body is invalid: %v.", err)
	}
	if len(p.Operations) == 0 {
		return nil, errBadRequest("The patch request has no operations.")
	}
	return &p, nil
}

// apply checks the condition on cur and returns a patched copy of it.
func (p *patchSpec) apply(cur map[string]any, pk pkDef) (map[string]any, *apiError) {
	if err := p.checkCondition(cur); err != nil {
		return nil, err
	}
	v := deepCopy(cur).(map[string]any)
	for _, op := range p.Operations {
		tokens, err := pointerTokens(op.Path)
		if err != nil {
			return nil, err
		}
		if _, err := patchAt(v, tokens, op); err != nil {
			return nil, err
		}
	}
	if v["id"] != cur["id"] || pk.keyOf(v) != pk.keyOf(cur) {
		return nil, errBadRequest("Patch cannot change the id or the partition key of an item.")
	}
	return v, nil
}

func (p *patchSpec) checkCondition(cur map[string]any) *apiError {
	if p.Condition == "" {
		return nil
	}
	q, err := parseCondition(p.Condition)
	if err != nil {
		return errBadRequest("The patch condition is invalid: %v", err)
	}
	ok, err := q.Eval(cur)
	if err != nil {
		return errBadRequest("The patch condition cannot be evaluated: %v", err)
	}
	if !ok {
		return errPrecondition()
	}
	return nil
}

// conditions keeps parsed patch conditions: a client sends the same few
// over and over (stock reservations: "FROM c WHERE c.available >= 2").
// A parsed query is never modified, so one serves concurrent patches.
var conditions = struct {
	sync.Mutex
	parsed map[string]*query.Query
}{parsed: map[string]*query.Query{}}

const maxConditions = 1024

func parseCondition(text string) (*query.Query, error) {
	conditions.Lock()
	q, ok := conditions.parsed[text]
	conditions.Unlock()
	if ok {
		return q, nil
	}
	q, err := query.Parse(text, nil)
	if err != nil {
		return nil, err
	}
	conditions.Lock()
	defer conditions.Unlock()
	if len(conditions.parsed) >= maxConditions {
		clear(conditions.parsed)
	}
	conditions.parsed[text] = q
	return q, nil
}

func pointerTokens(path string) ([]string, *apiError) {
	if !strings.HasPrefix(path, "/") || len(path) < 2 {
		return nil, errBadRequest("Patch path %q is invalid.", path)
	}
	tokens := strings.Split(path[1:], "/")
	for i, t := range tokens {
		tokens[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
		if tokens[i] == "" {
			return nil, errBadRequest("Patch path %q is invalid.", path)
		}
	}
	if isSystemProperty(tokens[0]) {
		return nil, errBadRequest("Patch cannot modify system property %s.", tokens[0])
	}
	return tokens, nil
}

func isSystemProperty(name string) bool {
	return slices.Contains(systemProperties, name)
}

// patchAt applies op at tokens below node and returns the new node.
func patchAt(node any, tokens []string, op patchOp) (any, *apiError) {
	if len(tokens) == 1 {
		return patchLeaf(node, tokens[0], op)
	}
	switch n := node.(type) {
	case map[string]any:
		child, ok := n[tokens[0]]
		if !ok {
			return nil, errMissingPath(op)
		}
		nc, err := patchAt(child, tokens[1:], op)
		n[tokens[0]] = nc
		return n, err
	case []any:
		i, ok := arrayIndex(tokens[0], len(n))
		if !ok {
			return nil, errMissingPath(op)
		}
		nc, err := patchAt(n[i], tokens[1:], op)
		n[i] = nc
		return n, err
	}
	return nil, errMissingPath(op)
}

func errMissingPath(op patchOp) *apiError {
	return errBadRequest("Patch %s failed: path %s does not exist or is not an object or array.", op.Op, op.Path)
}

func arrayIndex(token string, n int) (int, bool) {
	i, err := strconv.Atoi(token)
	return i, err == nil && i >= 0 && i < n
}

func patchLeaf(node any, name string, op patchOp) (any, *apiError) {
	switch n := node.(type) {
	case map[string]any:
		return patchMember(n, name, op)
	case []any:
		return patchElement(n, name, op)
	}
	return nil, errMissingPath(op)
}

func patchMember(n map[string]any, name string, op patchOp) (any, *apiError) {
	cur, exists := n[name]
	switch op.Op {
	case "add", "set":
		n[name] = op.Value
	case "replace":
		if !exists {
			return nil, errMissingPath(op)
		}
		n[name] = op.Value
	case "remove":
		if !exists {
			return nil, errMissingPath(op)
		}
		delete(n, name)
	case "incr":
		sum, err := increment(cur, exists, op)
		if err != nil {
			return nil, err
		}
		n[name] = sum
	default:
		return nil, errBadRequest("Unknown patch operation %q.", op.Op)
	}
	return n, nil
}

func patchElement(n []any, token string, op patchOp) (any, *apiError) {
	if token == "-" && (op.Op == "add" || op.Op == "set") {
		return append(n, op.Value), nil
	}
	i, err := strconv.Atoi(token)
	if err != nil || i < 0 || i > len(n) || (i == len(n) && op.Op != "add") {
		return nil, errMissingPath(op)
	}
	switch op.Op {
	case "add":
		return append(n[:i], append([]any{op.Value}, n[i:]...)...), nil
	case "set", "replace":
		n[i] = op.Value
		return n, nil
	case "remove":
		return append(n[:i], n[i+1:]...), nil
	case "incr":
		sum, err := increment(n[i], true, op)
		n[i] = sum
		return n, err
	}
	return nil, errBadRequest("Unknown patch operation %q.", op.Op)
}

func increment(cur any, exists bool, op patchOp) (any, *apiError) {
	by, ok := op.Value.(float64)
	if !ok {
		return nil, errBadRequest("Patch incr at %s needs a number.", op.Path)
	}
	if !exists {
		return by, nil
	}
	base, ok := cur.(float64)
	if !ok {
		return nil, errBadRequest("Patch incr at %s: the current value is not a number.", op.Path)
	}
	return base + by, nil
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, x := range t {
			s[i] = deepCopy(x)
		}
		return s
	}
	return v
}
