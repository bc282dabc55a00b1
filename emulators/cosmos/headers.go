package cosmos

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
)

// Header names in canonical form, so that Header.Get and Set find them
// without canonicalizing (and allocating) on every request.
const (
	hdrRequestCharge   = "X-Ms-Request-Charge"
	hdrActivityID      = "X-Ms-Activity-Id"
	hdrSessionToken    = "X-Ms-Session-Token"
	hdrPartitionKey    = "X-Ms-Documentdb-Partitionkey"
	hdrPKRangeID       = "X-Ms-Documentdb-Partitionkeyrangeid"
	hdrIsUpsert        = "X-Ms-Documentdb-Is-Upsert"
	hdrIsQuery         = "X-Ms-Documentdb-Query"
	hdrIsQueryAlt      = "X-Ms-Documentdb-Isquery"
	hdrIsBatch         = "X-Ms-Cosmos-Is-Batch-Request"
	hdrMaxItemCount    = "X-Ms-Max-Item-Count"
	hdrContinuation    = "X-Ms-Continuation"
	hdrItemCount       = "X-Ms-Item-Count"
	hdrChangeFeed      = "A-Im"
	hdrIfModifiedSince = "If-Modified-Since"
	hdrDate            = "X-Ms-Date"
	hdrLSN             = "Lsn"
	hdrPrefer          = "Prefer"
	hdrRetryAfterMs    = "X-Ms-Retry-After-Ms"
	hdrSubstatus       = "X-Ms-Substatus"
	contentTypeJSON    = "application/json"
	contentTypeQuery   = "application/query+json"
)

var (
	jsonContentType = []string{contentTypeJSON}
	gatewayVersion  = []string{"version=2.14.0"}
)

// activityPrefix makes activity ids unique across emulator runs; a
// counter makes them unique within one.
var (
	activityPrefix = newActivityPrefix()
	activitySeq    atomic.Uint64
)

func newActivityPrefix() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-"
}

func activityID() string {
	var b [12]byte
	n := activitySeq.Add(1)
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = "0123456789abcdef"[n&0xf]
		n >>= 4
	}
	return activityPrefix + string(b[:])
}

// writeJSON answers a status and a JSON body with the usual headers.
func writeJSON(w http.ResponseWriter, status int, ru string, body []byte) {
	h := w.Header() // keys in canonical form: assigned without re-canonicalizing
	h["Content-Type"] = jsonContentType
	setHeaders(h, hdrRequestCharge, ru, hdrActivityID, activityID())
	h["X-Ms-Gatewayversion"] = gatewayVersion
	w.WriteHeader(status)
	if len(body) > 0 {
		_, _ = w.Write(body)
	}
}

// writeFeed answers 200 with a list body (feedBody), encoded in a pooled
// buffer: change feed and query pages run to hundreds of kilobytes, and
// allocating and clearing a new buffer for each cost more than copying.
func writeFeed(w http.ResponseWriter, ru, rid, name string, items [][]byte) {
	buf := feedBuffers.Get().(*[]byte)
	body := appendFeedBody((*buf)[:0], rid, name, items)
	writeJSON(w, http.StatusOK, ru, body)
	if cap(body) <= maxPooledFeed {
		*buf = body
		feedBuffers.Put(buf)
	}
}

var feedBuffers = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledFeed bounds the buffers kept for reuse.
const maxPooledFeed = 4 << 20

// feedBody encodes a list response: {"_rid":..., "<name>":[...], "_count":n}.
func feedBody(rid, name string, items [][]byte) []byte {
	return appendFeedBody(nil, rid, name, items)
}

func appendFeedBody(out []byte, rid, name string, items [][]byte) []byte {
	size := 64 + len(rid) + len(name)
	for _, it := range items {
		size += len(it) + 1
	}
	out = slices.Grow(out, size)
	out = append(out, `{"_rid":"`...)
	out = append(out, rid...)
	out = append(out, `","`...)
	out = append(out, name...)
	out = append(out, `":[`...)
	for i, it := range items {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, it...)
	}
	out = append(out, `],"_count":`...)
	out = strconv.AppendInt(out, int64(len(items)), 10)
	return append(out, '}')
}

// setHeaders sets headers of canonical names (name, value, name, value...)
// to one value each, the values sharing one allocation.
func setHeaders(h http.Header, kv ...string) {
	values := make([]string, len(kv)/2)
	for i := range values {
		values[i] = kv[2*i+1]
		h[kv[2*i]] = values[i : i+1 : i+1]
	}
}

// header is r.Header.Get of a name already in canonical form: the map
// lookup without checking the name again.
func header(r *http.Request, name string) string {
	if v := r.Header[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}
