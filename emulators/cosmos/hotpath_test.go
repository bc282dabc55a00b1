package cosmos

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestItemETagIsTheFormattedLSN(t *testing.T) {
	for _, lsn := range []uint64{0, 1, 0xabc, 1 << 47, 1<<48 + 5, 1<<64 - 1} {
		for _, coll := range []uint32{0, 7, 1<<32 - 1} {
			assert.Equal(t, fmt.Sprintf("\"%08x-0000-0000-0000-%012x\"", coll, lsn), itemETag(coll, lsn))
		}
	}
}

// TestPlainPartitionKeyHeaderMatchesTheGeneralPath holds the fast path of
// the usual header to what decoding and encoding the header gives.
func TestPlainPartitionKeyHeaderMatchesTheGeneralPath(t *testing.T) {
	def := pkDef{paths: [][]string{{"pk"}}, version: 2}
	for _, h := range []string{`["order-1"]`, `[""]`, `["a<b"]`, `["é"]`, `["a\"b"]`, `["a\\u0041"]`, `[ "x" ]`, `["x",1]`, `[1]`, `[null]`, `[{}]`} {
		got, ok, err := parsePKHeaderFor(h, def)
		require.NoError(t, err, h)
		require.True(t, ok, h)
		values, err := pkHeaderValues(h)
		require.NoError(t, err, h)
		assert.Equal(t, pkey{key: canonicalKey(values), epk: def.effectivePK(values)}, got, h)
		b, _ := json.Marshal(values)
		assert.Equal(t, string(b), got.key, h)
	}
}

// TestVerifyRejectsAWrongSignatureOfARecentPayload: the signatures kept
// for recent payloads are compared, never trusted.
func TestVerifyRejectsAWrongSignatureOfARecentPayload(t *testing.T) {
	a, err := newAuthenticator(DefaultKey)
	require.NoError(t, err)
	payload := "get\ndbs\ndbs/db1\nmon, 23 nov 2026 18:00:00 gmt\n\n"
	r, _ := http.NewRequest(http.MethodGet, "http://x/dbs/db1", nil)
	r.Header.Set(hdrDate, "Mon, 23 Nov 2026 18:00:00 GMT")
	rt, _ := parseRoute("/dbs/db1")
	for range 2 {
		r.Header.Set("Authorization", url.QueryEscape("type=master&ver=1.0&sig="+a.sign(payload)))
		assert.NoError(t, a.verify(r, rt))
		r.Header.Set("Authorization", url.QueryEscape("type=master&ver=1.0&sig="+a.sign(payload+"x")))
		assert.Error(t, a.verify(r, rt))
	}
	for i := range maxSigned + 1 {
		_ = a.expected(fmt.Append(nil, i))
	}
	assert.LessOrEqual(t, len(a.signed), maxSigned, "the signatures kept are bounded")
}

// TestHeaderNamesAreCanonical: header() looks names up as they are.
func TestHeaderNamesAreCanonical(t *testing.T) {
	for _, name := range []string{hdrRequestCharge, hdrActivityID, hdrSessionToken, hdrPartitionKey, hdrPKRangeID,
		hdrIsUpsert, hdrIsQuery, hdrIsQueryAlt, hdrIsBatch, hdrMaxItemCount, hdrContinuation, hdrItemCount,
		hdrChangeFeed, hdrIfModifiedSince, hdrDate, hdrLSN, hdrPrefer, hdrRetryAfterMs, hdrSubstatus} {
		assert.Equal(t, http.CanonicalHeaderKey(name), name)
	}
	r, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
	r.Header.Set("x-ms-documentdb-partitionkey", `["a"]`)
	assert.Equal(t, `["a"]`, header(r, hdrPartitionKey))
	assert.Empty(t, header(r, hdrPKRangeID))
}

func TestAppendLowerIsToLower(t *testing.T) {
	for _, s := range []string{"", "POST", "Tue, 01 Dec 2026 10:00:00 GMT", "docs", "ÉTÉ Ǆ", "a\xffB"} {
		assert.Equal(t, "x"+strings.ToLower(s), string(appendLower([]byte("x"), s)), "%q", s)
	}
}

func TestReadBodyKnownAndUnknownLengths(t *testing.T) {
	for _, tc := range []struct {
		name   string
		body   string
		length int64
		status int
	}{
		{"known", `{"id":"a"}`, 10, 0},
		{"empty", ``, 0, 0},
		{"chunked", `{"id":"a"}`, -1, 0},
		{"short", `{"id"`, 10, http.StatusBadRequest},
		{"declared too large", `{}`, maxDocumentSize + 64<<10 + 1, http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodPost, "http://x/", strings.NewReader(tc.body))
			r.ContentLength = tc.length
			body, err := readBody(r)
			if tc.status != 0 {
				var e *apiError
				require.ErrorAs(t, err, &e)
				assert.Equal(t, tc.status, e.status)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.body, string(body))
		})
	}
}
