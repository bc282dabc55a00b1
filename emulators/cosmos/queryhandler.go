package cosmos

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ordersflow/orderpipeline/emulators/cosmos/query"
)

// queryRequest is the body of a query: {"query": ..., "parameters": [...]}.
type queryRequest struct {
	Query      string `json:"query"`
	Parameters []struct {
		Name  string `json:"name"`
		Value any    `json:"value"`
	} `json:"parameters"`
}

const defaultPageSize = 100

func (s *Server) query(w http.ResponseWriter, r *http.Request, rt route) error {
	c, err := s.store.container(rt.db, rt.coll)
	if err != nil {
		return err
	}
	sc, err := requestScope(r, c)
	if err != nil {
		return err
	}
	parsed, err := parseQuery(r)
	if err != nil {
		return refuseClause(err, c, sc)
	}
	q := parsed.q
	start := time.Now()
	res, err := runScoped(r, c, q, sc)
	if err != nil {
		return err
	}
	addQueryMetrics(w, r, q, res.scanned, res.items, start)
	price := queryPrice(len(res.items), res.matched)
	if parsed.readMany {
		price = func(page [][]byte, _ int) float64 { return readManyRU(page) }
	}
	return writePage(w, r, c.rid, "Documents", res.items, price)
}

func isQuery(r *http.Request) bool {
	return isTrue(header(r, hdrIsQuery)) || isTrue(header(r, hdrIsQueryAlt)) ||
		strings.HasPrefix(header(r, "Content-Type"), contentTypeQuery)
}

// parsedQuery is a query request body, parsed.
type parsedQuery struct {
	q        *query.Query
	readMany bool // the body is one of azcosmos's ReadManyItems queries
}

func parseQuery(r *http.Request) (parsedQuery, error) {
	body, err := readBody(r)
	if err != nil {
		return parsedQuery{}, err
	}
	if p, ok := queries.get(body); ok {
		return p, nil
	}
	var req queryRequest
	if err := decodeBody(body, &req); err != nil {
		return parsedQuery{}, err
	}
	params := make(map[string]any, len(req.Parameters))
	for _, p := range req.Parameters {
		params[p.Name] = p.Value
	}
	q, err := query.Parse(req.Query, params)
	if err != nil {
		e := errBadRequest("Query is invalid: %v", err)
		e.cause = err
		return parsedQuery{}, e
	}
	p := parsedQuery{q: q, readMany: req.isReadMany()}
	queries.put(body, p)
	return p, nil
}

// queries keeps the queries parsed from recent request bodies: clients
// send the same bodies over and over (ReadManyItems of the same few
// products, the local host's lease listings), and decoding and parsing
// one cost more than running it. A body holds the query and the values
// of its parameters, so the same body is the same query; a parsed query
// is never modified, so one serves concurrent requests.
var queries = queryCache{parsed: map[string]parsedQuery{}}

type queryCache struct {
	mu     sync.Mutex
	parsed map[string]parsedQuery
}

const (
	maxCachedQueries   = 1024
	maxCachedQueryBody = 4 << 10
)

func (c *queryCache) get(body []byte) (parsedQuery, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.parsed[string(body)]
	return p, ok
}

func (c *queryCache) put(body []byte, p parsedQuery) {
	if len(body) > maxCachedQueryBody {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.parsed) >= maxCachedQueries {
		clear(c.parsed)
	}
	c.parsed[string(body)] = p
}

// runQuery returns the encoded results and how many documents matched.
// Whole documents are answered as they are stored: their bodies are what
// encoding/json makes of their decoded values.
func runQuery(q *query.Query, docs []*document) ([][]byte, int, error) {
	if !q.SelectsDocuments() {
		return runQueryValues(q, values(docs))
	}
	rows, matched, err := q.RunRows(values(docs))
	if err != nil {
		return nil, 0, errBadRequest("Query cannot be executed: %v", err)
	}
	items := make([][]byte, len(rows))
	for i, row := range rows {
		items[i] = docs[row].body
	}
	return items, matched, nil
}

// runQueryValues runs a query over decoded values and encodes the results.
func runQueryValues(q *query.Query, docs []map[string]any) ([][]byte, int, error) {
	results, matched, err := q.RunMatched(docs)
	if err != nil {
		return nil, 0, errBadRequest("Query cannot be executed: %v", err)
	}
	items := make([][]byte, len(results))
	for i, v := range results {
		if items[i], err = json.Marshal(v); err != nil {
			return nil, 0, err
		}
	}
	return items, matched, nil
}

// queryResources answers a query over databases or containers.
func queryResources(w http.ResponseWriter, r *http.Request, name string, bodies [][]byte) error {
	parsed, err := parseQuery(r)
	if err != nil {
		return err
	}
	q := parsed.q
	docs := make([]map[string]any, len(bodies))
	for i, b := range bodies {
		if err := json.Unmarshal(b, &docs[i]); err != nil {
			return err
		}
	}
	items, matched, err := runQueryValues(q, docs)
	if err != nil {
		return err
	}
	return writePage(w, r, "", name, items, queryPrice(len(items), matched))
}

// readFeed lists a container's items (GET docs without A-IM).
func (s *Server) readFeed(w http.ResponseWriter, r *http.Request, rt route) error {
	c, err := s.store.container(rt.db, rt.coll)
	if err != nil {
		return err
	}
	sc, err := requestScope(r, c)
	if err != nil {
		return err
	}
	page, err := c.readFeed(feedQuery{scope: sc, maxItems: -1})
	if err != nil {
		return err
	}
	items := make([][]byte, len(page.docs))
	for i, d := range page.docs {
		items[i] = d.body
	}
	return writePage(w, r, c.rid, "Documents", items, queryPrice(len(items), len(items)))
}

// writePage answers one page of a whole result, paged by
// x-ms-max-item-count and an opaque x-ms-continuation offset, charged by
// price (given the page and its offset in the result).
func writePage(w http.ResponseWriter, r *http.Request, rid, name string, items [][]byte, price pagePrice) error {
	start, err := pageStart(header(r, hdrContinuation))
	if err != nil {
		return err
	}
	start = min(start, len(items))
	end := len(items)
	if n := maxItemCount(r, defaultPageSize); n > 0 {
		end = min(start+n, end)
	}
	if end < len(items) {
		w.Header().Set(hdrContinuation, pageToken(end))
	}
	w.Header().Set(hdrItemCount, strconv.Itoa(end-start))
	writeFeed(w, formatRU(price(items[start:end], start)), rid, name, items[start:end])
	return nil
}

// maxItemCount reads x-ms-max-item-count; -1 (or 0) means no limit.
func maxItemCount(r *http.Request, def int) int {
	v := header(r, hdrMaxItemCount)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return -1
	}
	return n
}

const pageTokenPrefix = "emulator-offset:"

func pageToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(pageTokenPrefix + strconv.Itoa(offset)))
}

func pageStart(token string) (int, error) {
	if token == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	n, convErr := strconv.Atoi(strings.TrimPrefix(string(raw), pageTokenPrefix))
	if err != nil || convErr != nil || !strings.HasPrefix(string(raw), pageTokenPrefix) || n < 0 {
		return 0, errBadRequest("The continuation token %q is invalid.", token)
	}
	return n, nil
}
