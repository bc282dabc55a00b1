package feedpage

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
)

// feedContainer is a two-partition container of a fresh emulator, and
// clients to it with and without Policy.
func feedContainer(t *testing.T) (with, without *azcosmos.ContainerClient) {
	t.Helper()
	srv, err := cosmos.Start(cosmos.Options{Addr: "127.0.0.1:0", ContainerPartitions: map[string]int{"c": 2}})
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	ctx := context.Background()
	containers := []*azcosmos.ContainerClient{}
	for _, opts := range []*azcosmos.ClientOptions{{ClientOptions: azcore.ClientOptions{PerCallPolicies: []policy.Policy{Policy}}}, nil} {
		client, err := azcosmos.NewClientFromConnectionString(srv.ConnectionString(), opts)
		require.NoError(t, err)
		db, _ := client.NewDatabase("db")
		c, _ := db.NewContainer("c")
		containers = append(containers, c)
	}
	client, _ := azcosmos.NewClientFromConnectionString(srv.ConnectionString(), nil)
	_, err = client.CreateDatabase(ctx, azcosmos.DatabaseProperties{ID: "db"}, nil)
	require.NoError(t, err)
	db, _ := client.NewDatabase("db")
	_, err = db.CreateContainer(ctx, azcosmos.ContainerProperties{ID: "c",
		PartitionKeyDefinition: azcosmos.PartitionKeyDefinition{Paths: []string{"/pk"}}}, nil)
	require.NoError(t, err)
	return containers[0], containers[1]
}

// TestPolicyHandsOverTheDocumentsTheSDKWouldDecode reads the same feed
// through both clients, page by page: the same documents, byte for byte,
// the same continuations and charges, and an empty Items with the policy.
func TestPolicyHandsOverTheDocumentsTheSDKWouldDecode(t *testing.T) {
	with, without := feedContainer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range 30 {
		doc := fmt.Appendf(nil, `{"id":"d%d","pk":"p%d","s":"q\"uo\\te\\\\ \u00e9 \ud83d\ude00 <&> ]},[{","n":[1,{"a":[]},-2.5e3,true,null],"o":{}}`, i, i)
		_, err := with.CreateItem(ctx, azcosmos.NewPartitionKeyString(fmt.Sprintf("p%d", i)), doc, nil)
		require.NoError(t, err)
	}
	ranges, err := with.ReadFeedRanges(ctx, nil)
	require.NoError(t, err)
	require.Len(t, ranges, 2)
	total := 0
	for _, r := range ranges {
		opts := &azcosmos.ChangeFeedOptions{FeedRange: &r, MaxItemCount: 4}
		for {
			pctx, page := Capture(ctx)
			got, err := with.ReadChangeFeed(pctx, opts)
			require.NoError(t, err)
			want, err := without.ReadChangeFeed(ctx, opts)
			require.NoError(t, err)
			docs := page.Documents(got)
			require.Equal(t, len(want.Items), len(docs))
			for i := range docs {
				assert.Equal(t, string(want.Items[i]), string(docs[i]))
				assert.True(t, json.Valid(docs[i]))
			}
			assert.Empty(t, got.Items, "the SDK decoded no document")
			assert.Equal(t, want.Count, got.Count)
			assert.Equal(t, want.ResourceID, got.ResourceID)
			assert.Equal(t, want.ContinuationToken, got.ContinuationToken)
			assert.Equal(t, want.RequestCharge, got.RequestCharge)
			total += len(docs)
			if len(docs) == 0 {
				break
			}
			opts = &azcosmos.ChangeFeedOptions{Continuation: &got.ContinuationToken, MaxItemCount: 4}
		}
	}
	assert.Equal(t, 30, total)
}

// TestWithoutCaptureTheSDKDecodes: a call without Capture, or a Page
// asked about another response, gets the SDK's Items.
func TestWithoutCaptureTheSDKDecodes(t *testing.T) {
	with, _ := feedContainer(t)
	ctx := context.Background()
	_, err := with.CreateItem(ctx, azcosmos.NewPartitionKeyString("p"), []byte(`{"id":"a","pk":"p"}`), nil)
	require.NoError(t, err)
	ranges, err := with.ReadFeedRanges(ctx, nil)
	require.NoError(t, err)
	var items int
	for _, r := range ranges {
		resp, err := with.ReadChangeFeed(ctx, &azcosmos.ChangeFeedOptions{FeedRange: &r})
		require.NoError(t, err)
		_, page := Capture(ctx)
		items += len(page.Documents(resp))
	}
	assert.Equal(t, 1, items)
}

func TestSplit(t *testing.T) {
	body := []byte(" {\"_rid\":\"x==\", \"Documents\" : [ {\"id\":\"a\",\"v\":\"]\"} ,\n[1,2], \"s\" ] ,\"_count\":3}")
	docs, rest, err := split(body)
	require.NoError(t, err)
	assert.Equal(t, []string{`{"id":"a","v":"]"}`, `[1,2]`, `"s"`}, []string{string(docs[0]), string(docs[1]), string(docs[2])})
	var page struct {
		RID       string            `json:"_rid"`
		Documents []json.RawMessage `json:"Documents"`
		Count     int               `json:"_count"`
	}
	require.NoError(t, json.Unmarshal(rest, &page), string(rest))
	assert.Equal(t, "x==", page.RID)
	assert.Empty(t, page.Documents)
	assert.Equal(t, 3, page.Count)
	docs, _, err = split([]byte(`{"Documents":[],"_count":0}`))
	require.NoError(t, err)
	assert.Empty(t, docs)
	for _, bad := range []string{``, `[]`, `{"_count":1}`, `{"Documents":{}}`, `{"Documents":[{"a":1}`, `{"Documents":[1 2]}`,
		`{"Documents":["x]}`, `{"Documents":[,]}`, `{"Documents" [1]}`, `{"a":1 "Documents":[]}`} {
		_, _, err := split([]byte(bad))
		assert.Error(t, err, bad)
	}
}

func TestEachMember(t *testing.T) {
	var keys, values []string
	err := EachMember([]byte(`{"a":1,"b\"":"x\\","c":{"d":[1,"}"]},"e":null}`), func(k, v []byte) {
		keys, values = append(keys, string(k)), append(values, string(v))
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"a", `b\"`, "c", "e"}, keys)
	assert.Equal(t, []string{"1", `"x\\"`, `{"d":[1,"}"]}`, "null"}, values)
	require.NoError(t, EachMember([]byte(` { } `), func(k, v []byte) { t.Error("no member") }))
	for _, bad := range []string{``, `[]`, `{"a"}`, `{"a":}`, `{"a":1`, `{"a":1,}`, `{a:1}`, `{"a":{"b":[1}`, `{"a":"x}`} {
		assert.Error(t, EachMember([]byte(bad), func(k, v []byte) {}), bad)
	}
}

// benchPage is a change feed page of 100 event-sized documents.
func benchPage() []byte {
	b := []byte(`{"_rid":"dGVzdAAAAAA=","Documents":[`)
	for i := range 100 {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"id":"ord-%06d-3","orderId":"ord-%06d","kind":"event","type":"TaxApplied","seq":3,`+
			`"at":"2026-12-01T23:29:23.123456Z","data":{"taxCents":1234,"rate":"0.20","region":"FR","lines":[{"sku":"SKU-001","qty":2,"cents":4999}]},`+
			`"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","_rid":"dGVzdAAAAAAAAAAAAAAAAA==",`+
			`"_self":"dbs/x/colls/y/docs/z/","_etag":"\"0000a1b2-0000-0000-0000-000000000000\"","_attachments":"attachments/","_ts":1764631763}`, i, i)
	}
	return append(b, `],"_count":100}`...)
}

// BenchmarkSDKDecode is what azcosmos does with a page.
func BenchmarkSDKDecode(b *testing.B) {
	body := benchPage()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var aux struct {
			ResourceID string            `json:"_rid"`
			Documents  []json.RawMessage `json:"Documents"`
			Count      int               `json:"_count"`
		}
		if err := json.Unmarshal(body, &aux); err != nil {
			b.Fatal(err)
		}
		items := make([][]byte, len(aux.Documents))
		for i, d := range aux.Documents {
			items[i] = d
		}
	}
}

// BenchmarkSplit is what Policy does instead (the SDK then decodes the
// emptied page).
func BenchmarkSplit(b *testing.B) {
	body := benchPage()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := split(body); err != nil {
			b.Fatal(err)
		}
	}
}
