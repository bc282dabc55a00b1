// Package feedpage hands a Cosmos DB change feed page's documents to its
// reader as the bytes the server sent, without the decode azcosmos does.
//
// azcosmos (v1.5.0) decodes a page with encoding/json into
// []json.RawMessage: a validating scan of every byte, a second scan, then
// a copy of each document. A reader that only forwards the documents (the
// local Functions host) or looks at a few members (bench-load) pays for it
// on every page; in the local host it was the largest cost of a listener.
// Policy, an azcore per-call policy of the azcosmos client, takes the
// documents out of a change feed response made with a context from
// Capture, and gives the SDK the same body with an empty Documents array
// (_rid, _count and every other member kept), so the SDK still does
// everything else: routing, continuations, splits, retries, charges.
// Page.Documents returns the captured documents for the response they came
// from, and the SDK's Items otherwise.
package feedpage

import (
	"bytes"
	"context"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	azruntime "github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
)

// Page receives the documents of the change feed response of one call.
type Page struct {
	resp *http.Response // the response the documents came from
	docs [][]byte
}

type pageKey struct{}

// Capture returns ctx with a Page that Policy fills during one
// ReadChangeFeed call made with it.
func Capture(ctx context.Context) (context.Context, *Page) {
	p := &Page{}
	return context.WithValue(ctx, pageKey{}, p), p
}

// Documents returns the documents of resp: those Policy took from it, or
// the SDK's Items when the policy did not see resp (a client without it,
// a body it could not walk).
func (p *Page) Documents(resp azcosmos.ChangeFeedResponse) [][]byte {
	if p.resp != nil && p.resp == resp.RawResponse {
		return p.docs
	}
	return resp.Items
}

// Policy takes the documents out of change feed responses whose request
// carries a Page. Add it to azcore.ClientOptions.PerCallPolicies.
var Policy policy.Policy = capture{}

type capture struct{}

func (capture) Do(req *policy.Request) (*http.Response, error) {
	resp, err := req.Next()
	p, _ := req.Raw().Context().Value(pageKey{}).(*Page)
	if err != nil || p == nil || resp.StatusCode != http.StatusOK || req.Raw().Header.Get("A-IM") != "Incremental Feed" {
		return resp, err
	}
	body, err := azruntime.Payload(resp)
	if err != nil {
		return resp, err // the SDK reads the body again and reports it
	}
	docs, rest, err := split(body)
	if err != nil {
		return resp, nil // the SDK decodes (and judges) the page itself
	}
	p.resp, p.docs = resp, docs
	resp.Body, resp.ContentLength = streaming.NopCloser(bytes.NewReader(rest)), int64(len(rest))
	return resp, nil
}

// split returns the elements of the page's Documents array and the page
// with that array emptied.
func split(body []byte) (docs [][]byte, rest []byte, err error) {
	start, end := -1, -1
	_, err = eachMember(body, func(key []byte, s, e int) bool {
		if string(key) != "Documents" {
			return true
		}
		start, end = s, e
		return false
	})
	if err != nil || start < 0 {
		return nil, nil, ErrNotJSON
	}
	if docs, err = elements(body[start:end]); err != nil {
		return nil, nil, err
	}
	rest = make([]byte, 0, len(body)-(end-start)+2)
	rest = append(append(append(rest, body[:start]...), "[]"...), body[end:]...)
	return docs, rest, nil
}
