package cosmos

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// Request charges. The size curves are Cosmos DB's published figures
// (session consistency, default indexing); between two points the charge
// is interpolated linearly, past the last point it follows the last
// segment. Everything else is the emulator's model, stated in README.md
// ("Request units"), and pinned by TestChargeTable.

// sizePoint is a published figure: an item of kb kilobytes costs ru.
type sizePoint struct{ kb, ru float64 }

var (
	readCurve  = []sizePoint{{1, 1}, {2, 1.04}, {4, 1.14}, {16, 1.67}, {1024, 145.9}}
	writeCurve = []sizePoint{{1, 4.95}, {2, 6.29}, {4, 6.67}, {16, 9.52}, {1024, 625}}
)

const (
	// indexedBaseline is how many indexed properties the write curve
	// includes; each one more costs indexedPropertyRU.
	indexedBaseline   = 10
	indexedPropertyRU = 0.05
	replaceFactor     = 2 // a replace removes the old version's index terms and adds the new ones
	failedOpRU        = 1 // 304, 404, 409, 412 and other refused operations
	queryPageRU       = 2.31
	queryLoadedRU     = 0.05 // per document loaded (matched) by the query engine
	queryReturnedKBRU = 0.1  // per KB returned on the page
	feedEmptyRU       = 1    // a change feed poll that finds nothing (304)
)

// interpolate reads a size curve at size bytes.
func interpolate(curve []sizePoint, size int) float64 {
	kb := float64(size) / 1024
	if kb <= curve[0].kb {
		return curve[0].ru
	}
	for i := 1; i < len(curve); i++ {
		if kb <= curve[i].kb || i == len(curve)-1 {
			a, b := curve[i-1], curve[i]
			return a.ru + (kb-a.kb)*(b.ru-a.ru)/(b.kb-a.kb)
		}
	}
	return curve[len(curve)-1].ru
}

// readRU is a point read of an item of size bytes.
func readRU(size int) float64 { return interpolate(readCurve, size) }

// writeRU is a create of an item of size bytes with indexed indexed properties.
func writeRU(size, indexed int) float64 {
	return interpolate(writeCurve, size) + indexedPropertyRU*float64(max(0, indexed-indexedBaseline))
}

// queryPageRU is one page of a query, read feed or change feed: the
// documents the engine loaded for it and the bytes it returns.
func pageRU(loaded, returnedBytes int) float64 {
	return queryPageRU + queryLoadedRU*float64(loaded) + queryReturnedKBRU*float64(returnedBytes)/1024
}

// readManyRU is a page of ReadMany: point reads of what it found.
func readManyRU(items [][]byte) float64 {
	total := 0.0
	for _, it := range items {
		total += readRU(len(it))
	}
	return max(total, failedOpRU)
}

// changeFeedRU is a change feed page; an empty one is a 304.
func changeFeedRU(n, bytes int) float64 {
	if n == 0 {
		return feedEmptyRU
	}
	return pageRU(n, bytes)
}

// opRU is the charge of one item operation, given the version it found
// (prev, nil when there was none) and its result.
func (c *container) opRU(op itemOp, prev *document, res opResult) float64 {
	switch {
	case res.err != nil:
		return failedOpRU
	case op.kind == "Read":
		return readRU(len(res.doc.body))
	case op.kind == "Delete":
		return writeRU(len(prev.body), c.indexed(prev.value()))
	case op.kind == "Create" || prev == nil:
		return writeRU(len(res.doc.body), c.indexedWrite(op, res.doc))
	}
	return replaceFactor * writeRU(len(res.doc.body), c.indexedWrite(op, res.doc))
}

// formatRU renders a charge as the x-ms-request-charge header does.
func formatRU(ru float64) string { return strconv.FormatFloat(math.Round(ru*100)/100, 'f', 2, 64) }

// sumRU adds charges and rounds like the service (two decimals).
func roundRU(ru float64) float64 { return math.Round(ru*100) / 100 }

// indexPolicy is the part of a container's indexing policy that decides
// how many of an item's properties are indexed.
type indexPolicy struct {
	none     bool            // indexingMode none: nothing is indexed
	only     map[string]bool // excluded "/*": only these top-level properties
	excluded map[string]bool // top-level properties excluded
}

// parseIndexPolicy reads the policy from container properties JSON.
func parseIndexPolicy(body []byte) *indexPolicy {
	var props struct {
		Policy struct {
			Mode     string `json:"indexingMode"`
			Included []struct {
				Path string `json:"path"`
			} `json:"includedPaths"`
			Excluded []struct {
				Path string `json:"path"`
			} `json:"excludedPaths"`
		} `json:"indexingPolicy"`
	}
	_ = json.Unmarshal(body, &props)
	p := &indexPolicy{none: strings.EqualFold(props.Policy.Mode, "none"), excluded: map[string]bool{}}
	for _, e := range props.Policy.Excluded {
		if e.Path == "/*" {
			p.only = map[string]bool{}
		}
		p.excluded[topProperty(e.Path)] = true
	}
	if p.only != nil {
		for _, in := range props.Policy.Included {
			p.only[topProperty(in.Path)] = true
		}
	}
	return p
}

// topProperty is the first property of an index path: "/a/b/?" → "a".
func topProperty(path string) string {
	first, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return strings.Trim(first, `"`)
}

// indexed counts the leaf values of an item the policy indexes (system
// properties are not counted). It walks the decoded item; nothing is
// encoded again.
func (c *container) indexed(v map[string]any) int {
	p := c.index.Load()
	if p == nil || p.none {
		return 0
	}
	n := 0
	for k, x := range v {
		if isSystemProperty(k) || p.excluded[k] || (p.only != nil && !p.only[k]) {
			continue
		}
		n += leaves(x)
	}
	return n
}

// indexedWrite counts the indexed properties of the version a write
// created: from the members of its request body when it has them (so the
// version need not be decoded), else from its decoded value.
func (c *container) indexedWrite(op itemOp, d *document) int {
	if op.item == nil || op.item.value != nil {
		return c.indexed(d.value())
	}
	p := c.index.Load()
	if p == nil || p.none {
		return 0
	}
	n := 0
	for _, m := range op.item.members {
		if name := op.item.name(m); !p.excluded[string(name)] && (p.only == nil || p.only[string(name)]) {
			n += m.leaves
		}
	}
	return n
}

func leaves(v any) int {
	switch x := v.(type) {
	case map[string]any:
		n := 0
		for _, e := range x {
			n += leaves(e)
		}
		return n
	case []any:
		n := 0
		for _, e := range x {
			n += leaves(e)
		}
		return n
	}
	return 1
}

// pagePrice charges one page of a result, given its offset in the result.
type pagePrice func(page [][]byte, start int) float64

// queryPrice charges a query's pages by the documents loaded and the bytes
// returned: each page loads what it returns; the first page also loads the
// matched documents that were not returned (aggregates, OFFSET, TOP).
func queryPrice(results, matched int) pagePrice {
	return func(page [][]byte, start int) float64 {
		loaded := len(page)
		if start == 0 {
			loaded += max(0, matched-results)
		}
		return pageRU(loaded, totalBytes(page))
	}
}

func totalBytes(items [][]byte) int {
	n := 0
	for _, it := range items {
		n += len(it)
	}
	return n
}

// isReadMany recognises the queries azcosmos's ReadManyItems sends, which
// Cosmos DB serves as point reads: ids as @param_id0..., partition key
// values as @pk0... (one logical partition) or @param_pk00... (several).
func (q *queryRequest) isReadMany() bool {
	if len(q.Parameters) == 0 || !strings.HasPrefix(q.Query, "SELECT * FROM c WHERE ") {
		return false
	}
	ids := 0
	for _, p := range q.Parameters {
		switch {
		case strings.HasPrefix(p.Name, "@param_id"):
			ids++
		case strings.HasPrefix(p.Name, "@param_pk"), strings.HasPrefix(p.Name, "@pk"):
		default:
			return false
		}
	}
	return ids > 0
}
