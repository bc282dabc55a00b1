package cosmos

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

const defaultFeedPageSize = 100

// changeFeed serves GET docs with "A-IM: Incremental Feed": the latest
// version of every item changed after the If-None-Match continuation (an
// LSN), optionally since If-Modified-Since, for one partition key range
// (x-ms-documentdb-partitionkeyrangeid) and one partition key. The etag
// header is the continuation; 304 means nothing new. LSNs are the
// container's, so the continuation of a range that was split is valid on
// each of its children: that is how azcosmos resumes after a split.
func (s *Server) changeFeed(w http.ResponseWriter, r *http.Request, rt route) error {
	c, err := s.store.container(rt.db, rt.coll)
	if err != nil {
		return err
	}
	q, err := parseFeedQuery(r, c)
	if err != nil {
		return err
	}
	page, err := c.readFeed(q)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Etag", `"`+strconv.FormatUint(page.next, 10)+`"`)
	h.Set(hdrLSN, strconv.FormatUint(page.next, 10))
	if len(page.docs) == 0 {
		writeJSON(w, http.StatusNotModified, formatRU(changeFeedRU(0, 0)), nil)
		return nil
	}
	items := make([][]byte, len(page.docs))
	for i, d := range page.docs {
		items[i] = d.body
	}
	h.Set(hdrItemCount, strconv.Itoa(len(items)))
	writeFeed(w, formatRU(changeFeedRU(len(items), totalBytes(items))), c.rid, "Documents", items)
	return nil
}

func parseFeedQuery(r *http.Request, c *container) (feedQuery, error) {
	q := feedQuery{maxItems: maxItemCount(r, defaultFeedPageSize)}
	inm := strings.Trim(header(r, "If-None-Match"), `"`)
	q.fromNow = inm == "*"
	if inm != "" && inm != "*" {
		lsn, err := strconv.ParseUint(inm, 10, 64)
		if err != nil {
			return q, errBadRequest("The change feed continuation %q is invalid.", inm)
		}
		q.after = lsn
	}
	if ims := header(r, hdrIfModifiedSince); ims != "" {
		t, err := parseHTTPTime(ims)
		if err != nil {
			return q, errBadRequest("If-Modified-Since %q is not an RFC 1123 time.", ims)
		}
		q.sinceNs = t.UnixNano()
	}
	sc, err := requestScope(r, c)
	q.scope = sc
	return q, err
}

// requestScope reads the partition key range and the partition key a feed
// or query request names; a range that was split answers 410/1002.
func requestScope(r *http.Request, c *container) (scope, error) {
	var sc scope
	values, err := pkHeaderValues(header(r, hdrPartitionKey))
	switch {
	case err != nil:
		return sc, err
	case c.pk.multiHash && len(values) > 0 && len(values) < len(c.pk.paths):
		key := canonicalKey(values)
		sc.prefix = key[:len(key)-1] + ","
	case len(values) > 0:
		sc.pk = canonicalKey(values)
	}
	if id := header(r, hdrPKRangeID); id != "" {
		sc.rng, err = c.routing().lookup(id)
	}
	return sc, err
}

// parseHTTPTime accepts RFC 1123 times in GMT or with the "UTC" suffix the
// SDK sends.
func parseHTTPTime(v string) (time.Time, error) {
	t, err := time.Parse(time.RFC1123, v)
	if err != nil {
		return http.ParseTime(v)
	}
	return t, nil
}
