package cosmos

import (
	"encoding/json"
	"strings"
)

// pkDef is a container's partition key definition: one or more paths
// ("/orderId", "/customer/id"), each split into its property names.
type pkDef struct {
	paths [][]string
}

func parsePKDef(props map[string]any) (pkDef, error) {
	def, _ := props["partitionKey"].(map[string]any)
	rawPaths, _ := def["paths"].([]any)
	if len(rawPaths) == 0 {
		return pkDef{}, errBadRequest("The partition key definition must have at least one path.")
	}
	var d pkDef
	for _, raw := range rawPaths {
		p, ok := raw.(string)
		if !ok || !strings.HasPrefix(p, "/") || len(p) < 2 {
			return pkDef{}, errBadRequest("Invalid partition key path %v.", raw)
		}
		d.paths = append(d.paths, strings.Split(p[1:], "/"))
	}
	return d, nil
}

// undefinedValue stands for a missing partition key property; it encodes
// as {} like Cosmos DB's "undefined" partition key.
var undefinedValue = map[string]any{}

// keyOf returns the canonical JSON of the document's partition key values.
func (d pkDef) keyOf(doc map[string]any) string {
	values := make([]any, len(d.paths))
	for i, path := range d.paths {
		values[i] = lookupPath(doc, path)
	}
	return canonicalKey(values)
}

func lookupPath(doc map[string]any, path []string) any {
	var cur any = doc
	for _, name := range path {
		obj, ok := cur.(map[string]any)
		if !ok {
			return undefinedValue
		}
		if cur, ok = obj[name]; !ok {
			return undefinedValue
		}
	}
	return cur
}

func canonicalKey(values []any) string {
	b, err := json.Marshal(values)
	if err != nil {
		return "[]"
	}
	return string(b)
}

// parsePKHeader decodes the x-ms-documentdb-partitionkey header (a JSON
// array) into its canonical form. ok is false when the header is absent.
func parsePKHeader(h string) (key string, ok bool, err error) {
	if h == "" {
		return "", false, nil
	}
	var values []any
	if err := json.Unmarshal([]byte(h), &values); err != nil {
		return "", false, errBadRequest("Partition key %s is invalid.", h)
	}
	if len(values) == 0 {
		return "", false, nil
	}
	return canonicalKey(values), true, nil
}
