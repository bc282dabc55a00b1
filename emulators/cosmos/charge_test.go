package cosmos

import (
	"bufio"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chargeRow is one row of the README's worked figures.
type chargeRow struct {
	op                  string
	size, indexed, docs int
	ru                  string
}

// rowCharge computes a README row with the emulator's charge functions.
func rowCharge(t *testing.T, r chargeRow) float64 {
	page := make([][]byte, r.docs)
	for i := range page {
		page[i] = make([]byte, r.size)
	}
	switch r.op {
	case "point read":
		return readRU(r.size)
	case "create", "delete":
		return writeRU(r.size, r.indexed)
	case "replace":
		return replaceFactor * writeRU(r.size, r.indexed)
	case "refused":
		return failedOpRU
	case "query page":
		return queryPrice(r.docs, r.docs)(page, 0)
	case "ReadMany page":
		return readManyRU(page)
	case "change feed page":
		return changeFeedRU(r.docs, totalBytes(page))
	}
	t.Fatalf("README row has unknown operation %q", r.op)
	return 0
}

// TestChargeTable pins the README's table of worked figures to the charge
// functions: change one and the other must follow.
func TestChargeTable(t *testing.T) {
	rows := readmeChargeRows(t)
	require.GreaterOrEqual(t, len(rows), 20, "the README's charge table")
	for _, r := range rows {
		t.Run(r.op+" "+strconv.Itoa(r.size)+"B "+strconv.Itoa(r.docs), func(t *testing.T) {
			assert.Equal(t, r.ru, formatRU(rowCharge(t, r)))
		})
	}
}

func readmeChargeRows(t *testing.T) []chargeRow {
	f, err := os.Open("README.md")
	require.NoError(t, err)
	defer f.Close()
	var rows []chargeRow
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "<!-- charges:begin -->":
			in = true
		case line == "<!-- charges:end -->":
			return rows
		case in && strings.HasPrefix(line, "| ") && !strings.HasPrefix(line, "| operation"):
			rows = append(rows, parseChargeRow(t, line))
		}
	}
	require.FailNow(t, "README.md has no charges:end marker")
	return nil
}

func parseChargeRow(t *testing.T, line string) chargeRow {
	cells := strings.Split(strings.Trim(line, "|"), "|")
	require.Len(t, cells, 5, line)
	for i := range cells {
		cells[i] = strings.TrimSpace(cells[i])
	}
	num := func(s string) int {
		if s == "" {
			return 0
		}
		n, err := strconv.Atoi(s)
		require.NoError(t, err, line)
		return n
	}
	return chargeRow{op: cells[0], size: num(strings.TrimSuffix(cells[1], " KB")) * 1024,
		indexed: num(cells[2]), docs: num(cells[3]), ru: cells[4]}
}

func TestInterpolateBetweenPublishedPoints(t *testing.T) {
	tests := []struct {
		name string
		size int
		want float64
	}{
		{"below the first point", 100, 1},
		{"at a point", 4 << 10, 1.14},
		{"half way from 2 KB to 4 KB", 3 << 10, 1.09},
		{"past the last point", 2 << 20, 145.9 + 1024*(145.9-1.67)/(1024-16)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.InDelta(t, tc.want, readRU(tc.size), 1e-9)
		})
	}
}

func TestIndexedPropertiesFollowThePolicy(t *testing.T) {
	item := map[string]any{"id": "a", "_rid": "x", "_ts": 1.0, "n": 1.0,
		"tags": []any{"a", "b"}, "addr": map[string]any{"city": "c", "zip": "z"}}
	tests := []struct {
		name   string
		policy string
		want   int
	}{
		{"default: every leaf but system properties", `{}`, 6},
		{"indexing off", `{"indexingPolicy":{"indexingMode":"none"}}`, 0},
		{"one path excluded", `{"indexingPolicy":{"excludedPaths":[{"path":"/addr/*"}]}}`, 4},
		{"only included paths", `{"indexingPolicy":{"includedPaths":[{"path":"/n/?"},{"path":"/tags/[]/?"}],"excludedPaths":[{"path":"/*"}]}}`, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &container{}
			c.setProperties([]byte(tc.policy))
			assert.Equal(t, tc.want, c.indexed(item))
		})
	}
}

// BenchmarkWriteCharge is the charge of a write of an order-sized item: a
// walk of the decoded item, no encoding.
func BenchmarkWriteCharge(b *testing.B) {
	c := &container{}
	c.setProperties([]byte(`{}`))
	lines := make([]any, 5)
	for i := range lines {
		lines[i] = map[string]any{"sku": "MUG-CLASSIC", "quantity": 2.0, "unitPrice": 1200.0, "name": "Mug"}
	}
	item := map[string]any{"id": "ord_1", "orderId": "ord_1", "kind": "order", "status": "Placed", "version": 3.0,
		"lines": lines, "shipTo": map[string]any{"country": "US", "region": "CA", "postalCode": "94103"}}
	d := &document{body: make([]byte, 1200), decodedValue: item}
	op := itemOp{kind: "Replace"}
	res := opResult{doc: d}
	b.ReportAllocs()
	for b.Loop() {
		_ = c.opRU(op, d, res)
	}
}

func TestReadManyQueriesAreRecognised(t *testing.T) {
	tests := []struct {
		name  string
		query string
		args  []string
		want  bool
	}{
		{"ids only (pk is /id)", "SELECT * FROM c WHERE c.id IN (@param_id0, @param_id1)", []string{"@param_id0", "@param_id1"}, true},
		{"one logical partition", "SELECT * FROM c WHERE c.pk = @pk0 AND c.id IN (@param_id0)", []string{"@pk0", "@param_id0"}, true},
		{"several partitions", "SELECT * FROM c WHERE (c.id = @param_id0 AND c.pk = @param_pk00) OR (c.id = @param_id1 AND c.pk = @param_pk10)",
			[]string{"@param_id0", "@param_pk00", "@param_id1", "@param_pk10"}, true},
		{"an application query", "SELECT * FROM c WHERE c.status = @status", []string{"@status"}, false},
		{"no parameters", "SELECT * FROM c WHERE c.id = 'a'", nil, false},
		{"partition key only", "SELECT * FROM c WHERE c.pk = @pk0", []string{"@pk0"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			params := make([]map[string]string, len(tc.args))
			for i, n := range tc.args {
				params[i] = map[string]string{"name": n, "value": "v"}
			}
			body, _ := json.Marshal(map[string]any{"query": tc.query, "parameters": params})
			var q queryRequest
			require.NoError(t, json.Unmarshal(body, &q))
			assert.Equal(t, tc.want, q.isReadMany())
		})
	}
}
