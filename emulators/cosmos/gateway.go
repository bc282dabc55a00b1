package cosmos

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ordersflow/orderpipeline/emulators/cosmos/query"
)

// Query headers the gateway honours.
const (
	hdrEnableCrossPartition = "x-ms-documentdb-query-enablecrosspartition"
	hdrPopulateQueryMetrics = "x-ms-documentdb-populatequerymetrics"
	hdrQueryMetrics         = "x-ms-documentdb-query-metrics"
	hdrPopulateIndexMetrics = "x-ms-cosmos-populateindexmetrics"
	hdrIndexUtilization     = "x-ms-cosmos-index-utilization"
	subStatusCrossPartition = "1004"
)

// runScoped runs a query as Cosmos DB's gateway does. A query scoped to a
// partition key (by the header, or by a filter that fixes every partition
// key path to a constant) or to one range (or over a container with one
// range) runs there. Otherwise it spans every range: that needs
// x-ms-documentdb-query-enablecrosspartition, and only a query whose
// results are the union of each range's (filters, projections, and
// SELECT VALUE aggregates, which answer one partial result per range) is
// served; the rest is refused with 400/1004 and the query plan, which
// only a client-side query engine can execute. It returns the results and
// the number of documents it read and kept.
func runScoped(r *http.Request, c *container, q *query.Query, sc scope) (queryResult, error) {
	rt := c.routing()
	if !sc.logical() && sc.rng == nil {
		sc.pk = keyFromFilter(c.pk, q)
	}
	if sc.logical() || sc.rng != nil || len(rt.Live) == 1 {
		docs, err := c.snapshot(r.Context(), sc)
		if err != nil {
			return queryResult{}, err
		}
		items, matched, err := runQuery(q, docs)
		return queryResult{items: items, scanned: len(docs), matched: matched}, err
	}
	if !isTrue(r.Header.Get(hdrEnableCrossPartition)) {
		return queryResult{}, errBadRequest("Cross partition query is required but disabled. Please set x-ms-documentdb-query-enablecrosspartition to true, specify x-ms-documentdb-partitionkey, or revise your query to avoid this exception.")
	}
	if plan := q.Plan(); !plan.PassThrough() {
		return queryResult{}, errNotServable(plan)
	}
	return fanOut(r.Context(), c, rt, q)
}

// refuseClause turns the refusal of a DISTINCT or GROUP BY query that
// spans several ranges into the gateway's: it needs a client-side query
// engine. Other parse errors stay as they are.
func refuseClause(err error, c *container, sc scope) error {
	var pe *query.ParseError
	if !errors.As(err, &pe) || pe.Clause == "" || sc.logical() || sc.rng != nil || len(c.routing().Live) == 1 {
		return err
	}
	plan := query.Plan{DistinctType: "None", OrderBy: []string{}, OrderByExpressions: []string{},
		GroupByExpressions: []string{}, Aggregates: []string{}}
	if pe.Clause == "DISTINCT" {
		plan.DistinctType = "Unordered"
	} else {
		plan.GroupByExpressions = []string{"?"}
	}
	return errNotServable(plan)
}

// keyFromFilter returns the partition key a query's filter fixes (every
// partition key path equal to a constant), or "": the gateway then serves
// the query from that one partition.
func keyFromFilter(d pkDef, q *query.Query) string {
	eq := q.Equalities()
	if len(eq) == 0 {
		return ""
	}
	values := make([]any, len(d.paths))
	for i, path := range d.paths {
		v, ok := eq[strings.Join(path, "/")]
		if !ok {
			return ""
		}
		values[i] = v
	}
	return canonicalKey(values)
}

// queryResult is what a query answered and what it cost to answer.
type queryResult struct {
	items   [][]byte
	scanned int // documents read, for the query metrics
	matched int // documents the filter kept, for the request charge
}

// fanOut runs the query on every range, in range order, and concatenates
// the results.
func fanOut(ctx context.Context, c *container, rt *routing, q *query.Query) (queryResult, error) {
	perRange, err := c.snapshotByRange(ctx, rt)
	if err != nil {
		return queryResult{}, err
	}
	var res queryResult
	for _, docs := range perRange {
		res.scanned += len(docs)
		if len(docs) == 0 && !q.Aggregate() {
			continue
		}
		out, matched, err := runQuery(q, docs)
		if err != nil {
			return queryResult{}, err
		}
		res.items = append(res.items, out...)
		res.matched += matched
	}
	return res, nil
}

// snapshotByRange returns the items of each live range of rt, in range
// order and change feed order, once they are durable.
func (c *container) snapshotByRange(ctx context.Context, rt *routing) ([][]*document, error) {
	docs := make([][]*document, len(rt.Live))
	index := make(map[*pkRange]int, len(rt.Live))
	for i, p := range rt.Live {
		index[p] = i
	}
	c.mu.RLock()
	if c.deleted {
		c.mu.RUnlock()
		return nil, errContainerGone(c.id)
	}
	for _, e := range c.feed.all.entries {
		if e.doc != nil {
			i := index[rt.owner(e.doc.epk)]
			docs[i] = append(docs[i], e.doc)
		}
	}
	seen := c.lsn
	c.mu.RUnlock()
	if err := c.durable.wait(ctx, seen); err != nil {
		return nil, err
	}
	return docs, nil
}

const notServableMessage = "The provided cross partition query can not be directly served by the gateway. " +
	"This is a first chance (internal) exception that all newer clients will know how to handle gracefully. " +
	"This exception is traced, but unless you see it bubble up as an exception (which only happens on older SDK clients), " +
	"then you can safely ignore this message."

// errNotServable is the gateway's refusal of a cross-partition query that
// needs a client-side query engine: 400, substatus 1004, and the query
// plan in additionalErrorInfo.
func errNotServable(plan query.Plan) *apiError {
	info, _ := json.Marshal(map[string]any{
		"partitionedQueryExecutionInfoVersion": 2,
		"queryInfo":                            plan,
		"queryRanges":                          []map[string]any{{"min": "", "max": epkMax, "isMinInclusive": true, "isMaxInclusive": false}},
	})
	e := errBadRequest("%s", notServableMessage)
	e.substatus, e.additional = subStatusCrossPartition, string(info)
	return e
}

// addQueryMetrics answers x-ms-documentdb-populatequerymetrics with the
// query metrics header, and x-ms-cosmos-populateindexmetrics with the
// index utilization (base64 JSON): every path the filter reads is served
// by the default index of every path.
func addQueryMetrics(w http.ResponseWriter, r *http.Request, q *query.Query, scanned int, items [][]byte, start time.Time) {
	h := w.Header()
	if isTrue(r.Header.Get(hdrPopulateQueryMetrics)) {
		h[http.CanonicalHeaderKey(hdrQueryMetrics)] = []string{queryMetrics(scanned, items, time.Since(start))}
	}
	if isTrue(r.Header.Get(hdrPopulateIndexMetrics)) {
		h[http.CanonicalHeaderKey(hdrIndexUtilization)] = []string{indexUtilization(q)}
	}
}

func queryMetrics(scanned int, items [][]byte, took time.Duration) string {
	size := 0
	for _, it := range items {
		size += len(it)
	}
	ms := strconv.FormatFloat(float64(took.Microseconds())/1000, 'f', 2, 64)
	return "totalExecutionTimeInMs=" + ms + ";queryCompileTimeInMs=0.00;queryLogicalPlanBuildTimeInMs=0.00;" +
		"queryPhysicalPlanBuildTimeInMs=0.00;queryOptimizationTimeInMs=0.00;VMExecutionTimeInMs=" + ms +
		";indexLookupTimeInMs=0.00;instructionCount=0;documentLoadTimeInMs=0.00;systemFunctionExecuteTimeInMs=0.00" +
		";userFunctionExecuteTimeInMs=0.00;retrievedDocumentCount=" + strconv.Itoa(scanned) +
		";retrievedDocumentSize=0;outputDocumentCount=" + strconv.Itoa(len(items)) +
		";outputDocumentSize=" + strconv.Itoa(size) + ";writeOutputTimeInMs=0.00;indexUtilizationRatio=1.00"
}

type indexUse struct {
	FilterExpression string
	IndexSpec        string
	FilterPreciseSet bool
	IndexPreciseSet  bool
	IndexImpactScore string
}

func indexUtilization(q *query.Query) string {
	used := []indexUse{}
	seen := map[string]bool{}
	for _, p := range q.FilterPaths() {
		if !seen[p] {
			seen[p] = true
			used = append(used, indexUse{IndexSpec: p, FilterPreciseSet: true, IndexPreciseSet: true, IndexImpactScore: "High"})
		}
	}
	b, _ := json.Marshal(map[string]any{
		"UtilizedSingleIndexes": used, "PotentialSingleIndexes": []indexUse{},
		"UtilizedCompositeIndexes": []any{}, "PotentialCompositeIndexes": []any{},
	})
	return base64.StdEncoding.EncodeToString(b)
}
