package cosmos

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRoute(t *testing.T) {
	tests := []struct {
		name, path, kind, resType, link string
	}{
		{"account", "/", "account", "", ""},
		{"databases", "/dbs", "dbs", "dbs", ""},
		{"database", "/dbs/db1", "db", "dbs", "dbs/db1"},
		{"containers", "/dbs/db1/colls", "colls", "colls", "dbs/db1"},
		{"pkranges", "/dbs/db1/colls/c/pkranges", "pkranges", "pkranges", "dbs/db1/colls/c"},
		{"item feed", "/dbs/db1/colls/c/docs", "docs", "docs", "dbs/db1/colls/c"},
		{"escaped item", "/dbs/db1/colls/c/docs/a%20b%3A1", "doc", "docs", "dbs/db1/colls/c/docs/a b:1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rt, err := parseRoute(tc.path)
			require.NoError(t, err)
			assert.Equal(t, tc.kind, rt.kind)
			assert.Equal(t, tc.resType, rt.resourceType)
			assert.Equal(t, tc.link, rt.resourceLink)
		})
	}
	_, err := parseRoute("/dbs/db1/users/u")
	assert.Error(t, err)
}

func TestSignatureKeepsPlusSigns(t *testing.T) {
	header := url.QueryEscape("type=master&ver=1.0&sig=ab+cd/ef==")
	sig, err := signatureOf(header)
	require.NoError(t, err)
	assert.Equal(t, "ab+cd/ef==", sig)

	_, err = signatureOf(url.QueryEscape("type=resource&ver=1.0&sig=x"))
	assert.Error(t, err, "only master key tokens")
}

func TestVerifyRejectsTamperedRequests(t *testing.T) {
	a, err := newAuthenticator(DefaultKey)
	require.NoError(t, err)
	r, _ := http.NewRequest(http.MethodGet, "http://x/dbs/db1", nil)
	r.Header.Set(hdrDate, "Mon, 23 Nov 2026 18:00:00 GMT")
	rt, _ := parseRoute("/dbs/db1")
	r.Header.Set("Authorization", url.QueryEscape("type=master&ver=1.0&sig="+a.sign("get\ndbs\ndbs/db1\nmon, 23 nov 2026 18:00:00 gmt\n\n")))
	assert.NoError(t, a.verify(r, rt))

	r.Header.Set(hdrDate, "Mon, 23 Nov 2026 18:00:01 GMT")
	assert.Error(t, a.verify(r, rt), "signature over another date")
}

func TestFeedLogCompactsDeadEntries(t *testing.T) {
	var f feedLog
	docs := make([]*document, 3000)
	for i := range docs {
		docs[i] = &document{id: "d", lsn: uint64(i + 1)}
		f.append(docs[i])
	}
	for i := 0; i < 2000; i++ {
		f.kill(uint64(i + 1))
	}
	assert.Less(t, len(f.entries), 3000, "compacted")
	page := f.read(feedQuery{after: 1500, upTo: 3000, maxItems: 10})
	require.Len(t, page.docs, 10)
	assert.Equal(t, uint64(2001), page.docs[0].lsn)
	assert.Equal(t, uint64(2010), page.next)

	caughtUp := f.read(feedQuery{after: 3000, upTo: 3000, maxItems: 10})
	assert.Empty(t, caughtUp.docs)
	assert.Equal(t, uint64(3000), caughtUp.next)
}

func TestFeedLogServesOnlyDurableChanges(t *testing.T) {
	var f feedLog
	for i := 1; i <= 5; i++ {
		f.append(&document{lsn: uint64(i)})
	}
	page := f.read(feedQuery{upTo: 3, maxItems: -1})
	assert.Len(t, page.docs, 3)
	assert.Equal(t, uint64(3), page.next)
}

func TestPatchArrays(t *testing.T) {
	doc := map[string]any{"id": "a", "pk": "p", "list": []any{1.0, 2.0, 3.0}}
	spec := &patchSpec{Operations: []patchOp{
		{Op: "add", Path: "/list/-", Value: 4.0},
		{Op: "remove", Path: "/list/0"},
		{Op: "set", Path: "/list/0", Value: 20.0},
		{Op: "incr", Path: "/list/1", Value: 1.0},
	}}
	out, err := spec.apply(doc, pkDef{paths: [][]string{{"pk"}}})
	require.Nil(t, err)
	assert.Equal(t, []any{20.0, 4.0, 4.0}, out["list"])
	assert.Equal(t, []any{1.0, 2.0, 3.0}, doc["list"], "the committed version is untouched")

	bad := &patchSpec{Operations: []patchOp{{Op: "set", Path: "/pk", Value: "other"}}}
	_, err = bad.apply(doc, pkDef{paths: [][]string{{"pk"}}})
	require.NotNil(t, err)
	assert.Equal(t, http.StatusBadRequest, err.status, "the partition key cannot change")
}

func TestPageTokens(t *testing.T) {
	n, err := pageStart(pageToken(42))
	require.NoError(t, err)
	assert.Equal(t, 42, n)
	_, err = pageStart("garbage")
	assert.Error(t, err)
}

func TestPartitionKeyCanonicalForm(t *testing.T) {
	def := pkDef{paths: [][]string{{"customer", "id"}}}
	fromDoc := def.keyOf(map[string]any{"customer": map[string]any{"id": 7.0}})
	fromHeader, ok, err := parsePKHeader("[7]")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, fromHeader, fromDoc)

	missing := def.keyOf(map[string]any{})
	undefinedHeader, _, err := parsePKHeader("[{}]")
	require.NoError(t, err)
	assert.Equal(t, undefinedHeader, missing)
}

func TestCloseIsIdempotent(t *testing.T) {
	s, err := Start(Options{DataDir: t.TempDir()})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	assert.NoError(t, s.Close())
}

func TestStartRejectsABadKey(t *testing.T) {
	_, err := Start(Options{Key: "not base64!"})
	assert.Error(t, err)
}

func TestSecondEmulatorOnOneDirectoryFails(t *testing.T) {
	dir := t.TempDir()
	s, err := Start(Options{DataDir: dir})
	require.NoError(t, err)
	defer s.Close()
	_, err = openStoreTimeout(dir, 50*time.Millisecond)
	assert.ErrorContains(t, err, "another emulator")
}

func TestHorizonWaitsForDurability(t *testing.T) {
	var h horizon
	require.NoError(t, h.wait(context.Background(), 0))

	done := make(chan error, 1)
	go func() { done <- h.wait(context.Background(), 5) }()
	h.moveTo(3)
	h.moveTo(5)
	require.NoError(t, <-done)
	assert.Equal(t, uint64(5), h.load())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, h.wait(ctx, 6), context.Canceled)

	go func() { done <- h.wait(context.Background(), 6) }()
	h.fail(assert.AnError)
	err := <-done
	require.Error(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, err.(*apiError).status)
}

func TestPatchRejectsSystemProperties(t *testing.T) {
	spec := &patchSpec{Operations: []patchOp{{Op: "set", Path: "/_etag", Value: "x"}}}
	_, err := spec.apply(map[string]any{"id": "a"}, pkDef{paths: [][]string{{"id"}}})
	require.NotNil(t, err)
	assert.Equal(t, http.StatusBadRequest, err.status)
}

func TestChangeFeedStarMeansFromNow(t *testing.T) {
	r, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
	r.Header.Set("If-None-Match", "*")
	c := &container{docs: map[string]*document{}}
	c.routes.Store(newRouting(pkDef{version: 2}, 1))
	q, err := parseFeedQuery(r, c)
	require.NoError(t, err)
	assert.True(t, q.fromNow)
	c.feed.append(c.routing(), &document{lsn: 1})
	c.durable.moveTo(1)
	page, err := c.readFeed(q)
	require.NoError(t, err)
	assert.Empty(t, page.docs)
	assert.Equal(t, uint64(1), page.next)
}
