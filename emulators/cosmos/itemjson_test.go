package cosmos

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var itemBodies = []string{
	`{"id":"a","pk":"p","n":1}`,
	`{"pk":"p","id":"a","z":{"b":1,"a":[1,2,{"y":null,"x":true}]},"_rid":"client","_ts":1,"_lsn":3}`,
	`{"id":"a","dup":1,"dup":{"x":1},"nested":{"k":1,"k":2}}`,
	`{"id":"a","n":[0,-0,1.0,1.50,1e2,1E-7,12345678901234567890,-123456789012345,1234567890123456,0.000001]}`,
	`{"id":"a","s":"<&>\u2028 \u2029 \u0041 \/ \" \\ \n \t \b \f \u0001 é 日本"}`,
	`{"id":"a","\u0041b":1,"Ab":2,"<":3,"é":4,"_":5,"Z":6}`,
	" \n{ \"id\" : \"a\" ,\t\"x\" : [ ] , \"y\" : { } } \n",
	`{"id":"a","big":1e400}`,
	`{"id":"a","bad":"` + "\xff" + `"}`,
	`{"id":"a","lone":"\ud800"}`,
	`{"id":"a"} trailing`,
	`{"id":"a",}`,
	`[{"id":"a"}]`,
	`null`,
	`{"id":7}`,
	`{"id":"a/b"}`,
	`{}`,
	`{"id":"a","customer":{"id":"c1","name":"n"},"pk":["x",1]}`,
}

// TestItemEncodingMatchesEncodingJSON pins the fast path to the bytes,
// errors, id, partition key and indexed properties of decoding the body
// into a map and encoding it with encoding/json.
func TestItemEncodingMatchesEncodingJSON(t *testing.T) {
	for _, body := range itemBodies {
		t.Run(body, func(t *testing.T) { checkItemEncoding(t, []byte(body)) })
	}
}

func FuzzItemEncoding(f *testing.F) {
	for _, body := range itemBodies {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkItemEncoding(t, body) })
}

func checkItemEncoding(t *testing.T, body []byte) {
	want, wantErr := decodeItemValue(body)
	got, gotErr := decodeItem(body)
	if wantErr != nil {
		require.Error(t, gotErr)
		assert.Equal(t, wantErr.Error(), gotErr.Error())
		return
	}
	require.NoError(t, gotErr)
	assert.Equal(t, want.id, got.id)
	c := &container{pk: pkDef{paths: [][]string{{"pk"}, {"customer", "id"}}, multiHash: true, version: 2}}
	c.setProperties([]byte(`{"indexingPolicy":{"excludedPaths":[{"path":"/n/*"}]}}`))
	assert.Equal(t, c.pk.pkeyOfItem(want), c.pk.pkeyOfItem(got), "partition key")
	single := pkDef{paths: [][]string{{"pk"}}, version: 2}
	assert.Equal(t, single.keyOf(want.value), single.keyOfItem(got), "partition key of one path")
	wantEnc, err := json.Marshal(want.value)
	require.NoError(t, err)
	gotEnc, err := appendValue(nil, want.value)
	require.NoError(t, err)
	assert.Equal(t, string(wantEnc), string(gotEnc), "appendValue")
	wantDoc, gotDoc := sealedDoc(t, want), sealedDoc(t, got)
	assert.Equal(t, string(wantDoc.body), string(gotDoc.body))
	assert.Equal(t, wantDoc.value(), gotDoc.value())
	op := itemOp{kind: "Create"}
	assert.Equal(t, c.indexedWrite(op, wantDoc), c.indexedWrite(itemOp{kind: "Create", item: got}, gotDoc), "indexed properties")
}

func sealedDoc(t *testing.T, it *item) *document {
	d := &document{rid: "AAAAAAAAAAABAAAAAAAAAA==", etag: `"00000001-0000-0000-0000-000000000001"`, ts: 1700000000}
	err := seal(it, d, "dbs/AAAAAA==/colls/AAAAAAAAAAA=/docs/AAAAAAAAAAABAAAAAAAAAA==/")
	require.Nil(t, err)
	return d
}

func TestItemEncodingKeepsDeepNesting(t *testing.T) {
	for _, depth := range []int{9999, 10000, 10001} {
		body := `{"id":"a","d":` + strings.Repeat(`[`, depth) + strings.Repeat(`]`, depth) + `}`
		var v map[string]any
		wantErr := json.Unmarshal([]byte(body), &v)
		_, gotErr := decodeItem([]byte(body))
		assert.Equal(t, wantErr == nil, gotErr == nil, "depth %d", depth)
	}
}

func TestItemEncodingTakesTheFastPath(t *testing.T) {
	for _, body := range []string{itemBodies[0], itemBodies[1], itemBodies[2], itemBodies[3], itemBodies[4], itemBodies[5], itemBodies[6]} {
		it, err := decodeItem([]byte(body))
		require.NoError(t, err, body)
		assert.Nil(t, it.value, "decoded through encoding/json: %s", body)
	}
}

func TestAppendStringQuotesAsEncodingJSONDoes(t *testing.T) {
	for _, s := range []string{"", "plain", `"etag"`, `a\b`, "<&>", "tab\t", "é", "\u2028", "\x7f", "bad\xff"} {
		want, err := json.Marshal(s)
		require.NoError(t, err)
		assert.Equal(t, "x"+string(want), string(appendString([]byte("x"), s)), "%q", s)
	}
}

// TestAppendValueEncodesAsEncodingJSONDoes holds the encoder of patched
// items to json.Marshal, and to its refusal of NaN and infinities.
func TestAppendValueEncodesAsEncodingJSONDoes(t *testing.T) {
	for _, body := range itemBodies {
		var v map[string]any
		if json.Unmarshal([]byte(body), &v) != nil || v == nil {
			continue
		}
		v["_ts"] = int64(1700000000)
		want, err := json.Marshal(v)
		require.NoError(t, err)
		got, err := appendValue(nil, v)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got))
	}
	for _, bad := range []any{math.Inf(1), math.NaN(), map[string]any{"a": []any{math.Inf(-1)}}} {
		_, wantErr := json.Marshal(bad)
		_, err := appendValue(nil, bad)
		require.Error(t, wantErr)
		assert.EqualError(t, err, wantErr.Error())
	}
}

func TestKeyOfItemIsTheCanonicalKeyOfItsValues(t *testing.T) {
	for _, body := range []string{`{"id":"a","pk":"p"}`, `{"id":"a","pk":"<é>"}`, `{"id":"a","pk":1.50}`, `{"id":"a","pk":{"b":1,"a":null}}`, `{"id":"a"}`, `{"id":"a","pk":[true]}`} {
		it, err := decodeItem([]byte(body))
		require.NoError(t, err)
		require.Nil(t, it.value, body)
		def := pkDef{paths: [][]string{{"pk"}}, version: 2}
		assert.Equal(t, canonicalKey(def.valuesOfItem(it)), def.keyOfItem(it), body)
	}
}
