package cosmos

import (
	"encoding/json"
	"strings"
)

// pkDef is a container's partition key definition: one or more paths
// ("/orderId", "/customer/id"), each split into its property names, the
// kind (Hash, or MultiHash for hierarchical keys) and the hash version.
type pkDef struct {
	paths     [][]string
	multiHash bool
	version   int // 1 or 2; a definition without a version is V1, as azcosmos reads it
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
	kind, _ := def["kind"].(string)
	d.multiHash = kind == "MultiHash" || kind == "" && len(d.paths) > 1
	if !d.multiHash && len(d.paths) > 1 || len(d.paths) > 3 {
		return pkDef{}, errBadRequest("A partition key of kind %s cannot have %d paths.", kind, len(d.paths))
	}
	switch v, _ := def["version"].(float64); v {
	case 0, 1:
		d.version = 1
	case 2:
		d.version = 2
	default:
		return pkDef{}, errBadRequest("Partition key version %v is not supported: use 1 or 2.", def["version"])
	}
	return d, nil
}

// undefinedValue stands for a missing partition key property; it encodes
// as {} like Cosmos DB's "undefined" partition key.
var undefinedValue = map[string]any{}

// pkey is a partition key value: its canonical JSON, which identifies the
// logical partition, and its effective partition key, which places it in
// a physical partition.
type pkey struct {
	key string
	epk string
}

// keyOf returns the canonical JSON of the document's partition key values.
func (d pkDef) keyOf(doc map[string]any) string {
	return canonicalKey(d.valuesOf(doc))
}

// keyOfItem is keyOf of an item to be written. With one top-level path it
// is the encoded member itself: canonicalKey encodes the value as
// encoding/json does, and the member is encoded so.
func (d pkDef) keyOfItem(it *item) string {
	if it.value == nil && len(d.paths) == 1 && len(d.paths[0]) == 1 {
		enc, ok := it.member(d.paths[0][0])
		if !ok {
			return canonicalKey([]any{undefinedValue})
		}
		return "[" + string(enc) + "]"
	}
	return canonicalKey(d.valuesOfItem(it))
}

// pkeyOfItem is pkeyOf of an item to be written.
func (d pkDef) pkeyOfItem(it *item) pkey {
	values := d.valuesOfItem(it)
	return pkey{key: canonicalKey(values), epk: d.effectivePK(values)}
}

// valuesOfItem reads the partition key values of an item; of an encoded
// one, it decodes only the members the paths start at.
func (d pkDef) valuesOfItem(it *item) []any {
	if it.value != nil {
		return d.valuesOf(it.value)
	}
	values := make([]any, len(d.paths))
	for i, path := range d.paths {
		values[i] = undefinedValue
		enc, ok := it.member(path[0])
		if !ok {
			continue
		}
		var top any
		if len(enc) > 1 && enc[0] == '"' && plainString(enc) {
			top = string(enc[1 : len(enc)-1])
		} else if err := json.Unmarshal(enc, &top); err != nil {
			continue
		}
		values[i] = lookupIn(top, path[1:])
	}
	return values
}

func (d pkDef) valuesOf(doc map[string]any) []any {
	values := make([]any, len(d.paths))
	for i, path := range d.paths {
		values[i] = lookupPath(doc, path)
	}
	return values
}

// pkeyFromKey rebuilds a partition key from its canonical JSON.
func (d pkDef) pkeyFromKey(key string) pkey {
	var values []any
	_ = json.Unmarshal([]byte(key), &values)
	return pkey{key: key, epk: d.effectivePK(values)}
}

func lookupPath(doc map[string]any, path []string) any {
	return lookupIn(doc, path)
}

func lookupIn(cur any, path []string) any {
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
	if len(values) == 1 {
		if s, ok := values[0].(string); ok && plainASCII(s) {
			return `["` + s + `"]`
		}
	}
	b, err := json.Marshal(values)
	if err != nil {
		return "[]"
	}
	return string(b)
}

// parsePKHeader decodes the x-ms-documentdb-partitionkey header (a JSON
// array) into its canonical form. ok is false when the header is absent.
func parsePKHeader(h string) (key string, ok bool, err error) {
	values, err := pkHeaderValues(h)
	if err != nil || len(values) == 0 {
		return "", false, err
	}
	return canonicalKey(values), true, nil
}

// parsePKHeaderFor decodes the partition key header for a container, with
// its EPK. ok is false when the header is absent or empty.
func parsePKHeaderFor(h string, d pkDef) (pk pkey, ok bool, err error) {
	if s, ok := plainPKHeader(h); ok { // the usual header, canonical as it is
		return pkey{key: h, epk: d.effectivePK([]any{s})}, true, nil
	}
	values, err := pkHeaderValues(h)
	if err != nil || len(values) == 0 {
		return pkey{}, false, err
	}
	return pkey{key: canonicalKey(values), epk: d.effectivePK(values)}, true, nil
}

// plainPKHeader recognises a header of one string that encoding/json
// writes as it is (`["order-1"]`) and returns the string.
func plainPKHeader(h string) (string, bool) {
	if len(h) < 4 || h[:2] != `["` || h[len(h)-2:] != `"]` || !plainASCII(h[2:len(h)-2]) {
		return "", false
	}
	return h[2 : len(h)-2], true
}

// plainASCII reports whether encoding/json writes s between quotes as it
// is: printable ASCII with nothing to escape.
func plainASCII[S ~string | ~[]byte](s S) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

func pkHeaderValues(h string) ([]any, error) {
	if h == "" {
		return nil, nil
	}
	var values []any
	if err := json.Unmarshal([]byte(h), &values); err != nil {
		return nil, errBadRequest("Partition key %s is invalid.", h)
	}
	return values, nil
}
