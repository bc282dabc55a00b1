package cosmos

import (
	"encoding/json"
	"encoding/xml"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawV2 is the V2 hash before the top two bits are cleared for routing,
// which is what the SDK's baseline files record.
func rawV2(values []any, multi bool) string {
	var out, buf []byte
	if multi {
		for _, v := range values {
			out = appendHash128(out, appendComponent(nil, v, 0xFF), false)
		}
		return string(out)
	}
	for _, v := range values {
		buf = appendComponent(buf, v, 0xFF)
	}
	return string(appendHash128(nil, buf, false))
}

func TestEPKKnownValues(t *testing.T) {
	tests := []struct {
		name   string
		values []any
		v1, v2 string
	}{
		// From azcosmos v1.5.0 internal/epk/testdata (the .NET SDK's baselines).
		{"undefined", []any{undefinedValue}, "000000000000000000000000514E28B7", "51622DAA78F835834610ABE56EFF5CB5"},
		{"null", []any{nil}, "000000000000000000000000E45AD1AB", "778867E4430E67857ACE5C908374FE16"},
		{"true", []any{true}, "0000000000000000000000005E2A8076", "4E711127C5B5A8E4726AC6DD306A3E59"},
		{"empty string", []any{""}, "0000000000000000000000003CCCB0FF", "B2E9366E637A71B4E710384B2F4970A0"},
		{"short string", []any{"asdf"}, "000000000000000000000000B02BABC2", "608BF1D598F5B63AD5520F04FE58C5E8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.v1, epkV1(tc.values))
			assert.Equal(t, tc.v2, rawV2(tc.values, false))
		})
	}
}

// TestEPKBaselines checks every vector of the SDK's baseline files, read
// from the azcosmos module this package is tested against.
func TestEPKBaselines(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos").Output()
	require.NoError(t, err, "locate the azcosmos module")
	dir := filepath.Join(strings.TrimSpace(string(out)), "internal", "epk", "testdata")
	files, err := filepath.Glob(filepath.Join(dir, "PartitionKeyHashBaselineTest.*.xml"))
	require.NoError(t, err)
	require.Len(t, files, 4, "the SDK's four baseline files")
	cases := 0
	for _, f := range files {
		for _, tc := range readBaseline(t, f) {
			values, multi := baselineValues(t, tc.Value)
			assert.Equal(t, tc.V1, epkV1(values), "V1 of %s (%s)", tc.Value, f)
			assert.Equal(t, tc.V2, rawV2(values, multi), "V2 of %s (%s)", tc.Value, f)
			cases++
		}
	}
	assert.Greater(t, cases, 25)
}

type baselineCase struct {
	Value string `xml:"Input>PartitionKeyValue"`
	V1    string `xml:"Output>PartitionKeyHashV1"`
	V2    string `xml:"Output>PartitionKeyHashV2"`
}

func readBaseline(t *testing.T, file string) []baselineCase {
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	var doc struct {
		Results []baselineCase `xml:"Result"`
	}
	require.NoError(t, xml.Unmarshal(raw, &doc))
	return doc.Results
}

// baselineValues decodes a baseline input: UNDEFINED, a JSON scalar (with
// NaN and infinities spelled as strings, NaN with .NET's bit pattern), or
// a list of strings (a hierarchical key).
func baselineValues(t *testing.T, raw string) ([]any, bool) {
	if raw == "UNDEFINED" {
		return []any{undefinedValue}, false
	}
	var v any
	require.NoError(t, json.Unmarshal([]byte(raw), &v), raw)
	switch x := v.(type) {
	case []any:
		return x, true
	case string:
		switch x {
		case "NaN":
			return []any{math.Float64frombits(0xFFF8000000000000)}, false
		case "Infinity":
			return []any{math.Inf(1)}, false
		case "-Infinity":
			return []any{math.Inf(-1)}, false
		}
	}
	return []any{v}, false
}

func TestEPKRoutingMasksTopBits(t *testing.T) {
	d := pkDef{paths: [][]string{{"a"}}, version: 2}
	got := d.effectivePK([]any{nil}) // raw hash starts 0x77
	assert.Equal(t, "378867E4430E67857ACE5C908374FE16", got)
	multi := pkDef{paths: [][]string{{"a"}, {"b"}}, version: 2, multiHash: true}
	both := multi.effectivePK([]any{"hello", "world"})
	require.Len(t, both, 64)
	assert.LessOrEqual(t, both[0], byte('3'))
	assert.LessOrEqual(t, both[32], byte('3'))
	v1 := pkDef{paths: [][]string{{"a"}}, version: 1}
	assert.Equal(t, "000000000000000000000000B02BABC2", v1.effectivePK([]any{"asdf"}))
}

func TestCompareEPK(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"06AB", "06AB", 0},
		{"06AB", "06AC", -1},
		{"06AC", "06AB", 1},
		{"06AB", "06AB0000", 0},
		{"06AB", "06AB0001", -1},
		{"06AB0001", "06AB", 1},
		{"", "0000", 0},
		{"", "0001", -1},
		{"3FFFFFFF", epkMax, -1},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, compareEPK(tc.a, tc.b), "%q vs %q", tc.a, tc.b)
	}
}

func TestRoutingTilesAndSplits(t *testing.T) {
	d := pkDef{paths: [][]string{{"a"}}, version: 2}
	rt := newRouting(d, 4)
	require.Len(t, rt.Live, 4)
	assert.Equal(t, "", rt.Live[0].Min)
	assert.Equal(t, "10000000000000000000000000000000", rt.Live[1].Min)
	assert.Equal(t, "30000000000000000000000000000000", rt.Live[3].Min)
	assert.Equal(t, epkMax, rt.Live[3].Max)
	for i := 1; i < 4; i++ {
		assert.Equal(t, rt.Live[i-1].Max, rt.Live[i].Min, "ranges tile the space")
	}
	next, kids, err := rt.split(d, "3")
	require.NoError(t, err)
	assert.Equal(t, "38000000000000000000000000000000", kids[0].Max)
	assert.Equal(t, []string{"3"}, kids[1].Parents)
	assert.Equal(t, []string{"4", "5"}, []string{kids[0].ID, kids[1].ID})
	_, err = next.lookup("3")
	require.Error(t, err)
	assert.Equal(t, http.StatusGone, err.(*apiError).status)
	assert.Equal(t, "1002", err.(*apiError).substatus)
	assert.Len(t, rt.Live, 4, "the old routing is unchanged")
	assert.Equal(t, []*pkRange{kids[0], kids[1]}, next.since(rt.Version))
	for _, epk := range []string{"", "0FFF", "37FFFFFF", "38", "3FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"} {
		assert.True(t, next.owner(epk).contains(epk), epk)
	}
}

func BenchmarkEffectivePK(b *testing.B) {
	d := pkDef{paths: [][]string{{"orderId"}}, version: 2}
	values := []any{"0c4b2f6e-8a51-4d7e-9f3a-2b1c5d6e7f80"}
	b.ReportAllocs()
	for b.Loop() {
		_ = d.effectivePK(values)
	}
}
