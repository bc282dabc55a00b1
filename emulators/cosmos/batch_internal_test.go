package cosmos

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBatchBodiesDecodeAsEncodingJSONDoes holds decodeBatch to
// encoding/json's reading of batch bodies, odd ones included, and to its
// errors.
func TestBatchBodiesDecodeAsEncodingJSONDoes(t *testing.T) {
	for _, body := range []string{
		`[{"operationType":"Create","resourceBody":{"id":"a","pk":"p"}}]`,
		`[{"OPERATIONTYPE":"Replace","Id":"a","ifmatch":"\"e\"","resourceBody":{"id":"a"}}]`,
		`[{"operationType":"Create","operationType":"Upsert","id":null,"extra":[1,2],"resourceBody":null}]`,
		`[{"operationType":"Create","id":"` + "\xff" + `","resourceBody":{"id":"a"}}]`,
		`[{"operationType":"Read","id":"a"},{"operationType":"Delete","id":"b","ifMatch":"*"}]`,
		`[]`,
		`{"operationType":"Create"}`,
		`[{"operationType":7}]`,
		`[{"operationType":"Create",}]`,
		`not json`,
	} {
		t.Run(body, func(t *testing.T) {
			var want []batchOperation
			wantErr := json.Unmarshal([]byte(body), &want)
			got, err := decodeBatch(httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)))
			if wantErr != nil {
				require.Error(t, err)
				assert.Equal(t, errBadRequest("The request body is not valid JSON: %v.", wantErr).Error(), err.Error())
				return
			}
			require.NoError(t, err)
			require.Len(t, got, len(want))
			for i := range want {
				assert.Equal(t, want[i].OperationType, got[i].OperationType)
				assert.Equal(t, want[i].ID, got[i].ID)
				assert.Equal(t, want[i].IfMatch, got[i].IfMatch)
				assert.Equal(t, string(want[i].ResourceBody), string(got[i].ResourceBody))
			}
		})
	}
}

// TestBatchResponseEncodesAsEncodingJSONDoes holds writeBatch's body to
// json.Marshal of the results.
func TestBatchResponseEncodesAsEncodingJSONDoes(t *testing.T) {
	doc := &document{etag: `"00000001-0000-0000-0000-00000000002a"`, body: []byte(`{"id":"a","s":"\u003c\u0026"}`)}
	ops := []itemOp{{kind: "Create"}, {kind: "Read"}, {kind: "Delete"}, {kind: "Replace"}}
	for _, minimal := range []bool{false, true} {
		results := []opResult{
			{status: http.StatusCreated, doc: doc, ru: 4.95},
			{status: http.StatusOK, doc: doc, ru: 1},
			{status: http.StatusNoContent, ru: 1.0 / 3},
			{status: http.StatusFailedDependency, err: newError(http.StatusFailedDependency, "x"), ru: 1e-7},
		}
		want := make([]batchResult, len(results))
		for i, res := range results {
			want[i] = toBatchResult(ops[i].kind == "Read", res, minimal)
		}
		wantBody, err := json.Marshal(want)
		require.NoError(t, err)
		w := httptest.NewRecorder()
		require.NoError(t, writeBatch(w, ops, results, minimal))
		assert.Equal(t, string(wantBody), w.Body.String())
		assert.Equal(t, http.StatusMultiStatus, w.Code)
	}
}

// TestPatchBodiesDecodeAsEncodingJSONDoes holds decodePatch to
// encoding/json, values and errors.
func TestPatchBodiesDecodeAsEncodingJSONDoes(t *testing.T) {
	for _, body := range []string{
		`{"condition":"FROM c WHERE c.available >= 2","operations":[{"op":"incr","path":"/available","value":-2}]}`,
		`{"Operations":[{"OP":"set","path":"/a","value":{"b":[1,"x",null,true]}}],"extra":1}`,
		`{"operations":[{"op":"add","path":"/a","value":1.5e3},{"op":"add","path":"/a","value":"` + "\xff" + `"}]}`,
		`{"operations":[]}`,
		`{"operations":{}}`,
		`[1]`,
		`{"operations":[{"op":"set","path":"/a","value":1e400}]}`,
	} {
		t.Run(body, func(t *testing.T) {
			var want patchSpec
			wantErr := json.Unmarshal([]byte(body), &want)
			got, err := decodePatch([]byte(body))
			switch {
			case wantErr != nil:
				require.NotNil(t, err)
				assert.Equal(t, errBadRequest("The patch body is invalid: %v.", wantErr).Error(), err.Error())
			case len(want.Operations) == 0:
				require.NotNil(t, err)
			default:
				require.Nil(t, err)
				assert.Equal(t, want, *got)
			}
		})
	}
}

func TestPatchConditionsAreParsedOnce(t *testing.T) {
	a, err := parseCondition("FROM c WHERE c.n >= 1")
	require.NoError(t, err)
	b, err := parseCondition("FROM c WHERE c.n >= 1")
	require.NoError(t, err)
	assert.Same(t, a, b)
	_, err = parseCondition("FROM c WHERE")
	assert.Error(t, err)
	ok, err := b.Eval(map[string]any{"n": 2.0})
	require.NoError(t, err)
	assert.True(t, ok)
}

// FuzzUnmarshalIsEncodingJSON holds unmarshal to json.Unmarshal on the
// request bodies it decodes: the same result, the same error.
func FuzzUnmarshalIsEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`[{"operationType":"Create","id":"a","ifMatch":"x","resourceBody":{"id":"a"}}]`,
		`{"condition":"FROM c","operations":[{"op":"set","path":"/a","value":[1,{"b":null}]}]}`,
		`{"query":"SELECT * FROM c WHERE c.id = @id","parameters":[{"name":"@id","value":"x"}]}`,
		`{"OperationType":"x","ID":1}`, `[1,2]`, `null`, `{"a":1e999}`, "\"\xff\"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		check := func(want, got any) {
			wantErr := json.Unmarshal(body, want)
			err := unmarshal(body, got)
			if wantErr != nil {
				require.Error(t, err)
				assert.Equal(t, wantErr.Error(), err.Error())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, want, got)
		}
		check(&[]batchOperation{}, &[]batchOperation{})
		check(&patchSpec{}, &patchSpec{})
		check(&queryRequest{}, &queryRequest{})
	})
}

// TestSDKBatchBodiesTakeTheOnePassDecoder checks that the bodies azcosmos
// sends are read by decodeOps, not left to unmarshal.
func TestSDKBatchBodiesTakeTheOnePassDecoder(t *testing.T) {
	body := `[{"operationType":"Create","resourceBody":{"id":"a","pk":"p"}},` +
		`{"operationType":"Replace","ifMatch":"\"00000001-0000-0000-0000-00000000002a\"","id":"b","resourceBody":{"id":"b"}},` +
		`{"operationType":"Patch","id":"c","resourceBody":{"operations":[{"op":"incr","path":"/n","value":-1}]}},` +
		`{"operationType":"Delete","id":"d"},{"operationType":"Read","id":"e"}]`
	ops, ok := decodeOps([]byte(body))
	require.True(t, ok)
	require.Len(t, ops, 5)
	assert.Equal(t, batchOperation{OperationType: "Replace", ID: "b", IfMatch: `"00000001-0000-0000-0000-00000000002a"`,
		ResourceBody: json.RawMessage(`{"id":"b"}`)}, ops[1])
	assert.Equal(t, "Read", ops[4].OperationType)
}

// FuzzBatchDecodingIsEncodingJSON holds decodeBatch (decodeOps, or
// unmarshal when decodeOps declines) to json.Unmarshal.
func FuzzBatchDecodingIsEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`[{"operationType":"Create","id":"a","ifMatch":"x","resourceBody":{"id":"a"}}]`,
		`[{"operationType":"Replace","ifMatch":"\"e\"","id":"a","resourceBody": [1, {"b" : null}] }]`,
		`[{"operationType":"Create","id":"a","id":null,"x":{"id":1},"resourceBody":1,"resourceBody":"s"}]`,
		`[{"operationtype":"Create"}]`, `[{"operationType":1}]`, `[null]`, `null`, `[]`, `[{}] x`,
		`[{"id":"\u00e9\u2028"}]`, "[{\"id\":\"\xff\"}]", `[{"\u0069d":"a"}]`, `[{"ſd":"a"}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var want []batchOperation
		wantErr := json.Unmarshal(body, &want)
		got, err := decodeBatch(httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)))
		if wantErr != nil {
			require.Error(t, err)
			assert.Equal(t, errBadRequest("The request body is not valid JSON: %v.", wantErr).Error(), err.Error())
			return
		}
		require.NoError(t, err)
		assert.Equal(t, want, got)
	})
}
