package cosmos

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// container holds a container's items, its change feed, its LSN and its
// partition key ranges. Items, feed and LSN are shared by all ranges: a
// range is the set of items whose EPK it holds, so a split moves no data
// and a continuation (an LSN) stays valid on the children of its range.
type container struct {
	db       *database
	id       string
	num      uint32
	ridBytes [8]byte
	rid      string
	body     atomic.Pointer[[]byte] // properties served to clients
	pk       pkDef
	journal  *journal
	routes   atomic.Pointer[routing] // the partition key ranges; replaced by splits

	index atomic.Pointer[indexPolicy] // from the properties; counts a write's indexed properties
	ttl   atomic.Int64                // defaultTtl from the properties; ttlOff when none
	clock *timeSource                 // the emulator's (Options.Now)
	offer atomic.Pointer[offer]       // its own throughput (a copy of the store's); nil when it shares its database's

	mu      sync.RWMutex
	docs    map[string]*document // by docKey
	feed    changeFeed
	lsn     uint64 // last LSN assigned
	deleted bool
	garbage garbage  // replaced versions still in the file
	expiry  expiries // the items that can expire, by when

	durable horizon // every write up to it is durable
}

func newContainer(d *database, num uint32, props map[string]any, ts int64) (*container, error) {
	pk, err := parsePKDef(props)
	if err != nil {
		return nil, err
	}
	if _, err := containerTTL(props); err != nil {
		return nil, err
	}
	c := &container{db: d, id: props["id"].(string), num: num, pk: pk, docs: map[string]*document{}, clock: systemClock}
	c.routes.Store(newRouting(pk, 1))
	c.ridBytes = containerRIDBytes(d.num, num)
	c.rid = base64.StdEncoding.EncodeToString(c.ridBytes[:])
	body, err := containerBody(props, c, ts)
	c.setProperties(body)
	return c, err
}

// properties returns the container's properties JSON.
func (c *container) properties() []byte { return *c.body.Load() }

func (c *container) setProperties(body []byte) {
	c.body.Store(&body)
	c.index.Store(parseIndexPolicy(body))
	c.ttl.Store(propertiesTTL(body))
}

func containerBody(props map[string]any, c *container, ts int64) ([]byte, error) {
	out := make(map[string]any, len(props)+10)
	for k, v := range props {
		out[k] = v
	}
	if _, ok := out["indexingPolicy"]; !ok {
		out["indexingPolicy"] = map[string]any{
			"indexingMode": "consistent", "automatic": true,
			"includedPaths": []any{map[string]any{"path": "/*"}},
			"excludedPaths": []any{map[string]any{"path": "/\"_etag\"/?"}},
		}
	}
	pkDef := out["partitionKey"].(map[string]any)
	if _, ok := pkDef["kind"]; !ok {
		pkDef["kind"] = "Hash"
		if len(c.pk.paths) > 1 {
			pkDef["kind"] = "MultiHash"
		}
	}
	out["_rid"], out["_self"] = c.rid, c.self()
	out["_etag"], out["_ts"] = resourceETag(c.num, ts), ts
	out["_docs"], out["_sprocs"], out["_triggers"] = "docs/", "sprocs/", "triggers/"
	out["_udfs"], out["_conflicts"] = "udfs/", "conflicts/"
	b, err := json.Marshal(out)
	if err != nil {
		return nil, errBadRequest("The container properties cannot be encoded: %v.", err)
	}
	return b, nil
}

func (c *container) self() string {
	return "dbs/" + c.db.rid + "/colls/" + c.rid + "/"
}

func (c *container) markDeleted() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deleted = true
}

func errContainerGone(id string) error {
	return newError(http.StatusNotFound, "Container %s does not exist.", id)
}

// read returns the current version of an item once it is durable.
func (c *container) read(ctx context.Context, pk, id string) (*document, error) {
	d, seen, err := c.lookupItem(pk, id)
	if werr := c.durable.wait(ctx, seen); werr != nil {
		return nil, werr
	}
	return d, err
}

// lookupItem returns the item and the LSN the answer depends on.
func (c *container) lookupItem(pk, id string) (*document, uint64, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.deleted {
		return nil, 0, errContainerGone(c.id)
	}
	d, ok := c.docs[docKey(pk, id)]
	if !ok || !c.live(d) {
		return nil, c.lsn, errNotFound()
	}
	return d, c.lsn, nil
}

// scope selects the items a query or feed read covers: one partition key
// (pk != ""), or, on hierarchical keys, every key under a prefix of it
// (prefix != ""), the items of one range (rng != nil), or both, or all.
type scope struct {
	pk     string
	prefix string // canonical JSON of the leading components, without the closing "]"
	rng    *pkRange
}

func (s scope) holds(d *document) bool {
	return (s.pk == "" || d.pk == s.pk) && (s.prefix == "" || strings.HasPrefix(d.pk, s.prefix)) &&
		(s.rng == nil || s.rng.contains(d.epk))
}

// logical reports whether the scope is one logical partition (or prefix).
func (s scope) logical() bool { return s.pk != "" || s.prefix != "" }

// snapshot returns the items in scope, in change feed order, once they
// are durable.
func (c *container) snapshot(ctx context.Context, sc scope) ([]*document, error) {
	docs, seen, err := c.collect(sc)
	if err != nil {
		return nil, err
	}
	if err := c.durable.wait(ctx, seen); err != nil {
		return nil, err
	}
	return docs, nil
}

func (c *container) collect(sc scope) ([]*document, uint64, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.deleted {
		return nil, 0, errContainerGone(c.id)
	}
	out := make([]*document, 0, len(c.docs))
	now := c.clock.now().Unix()
	for _, e := range c.feed.entries(sc.rng) {
		if e.doc != nil && sc.holds(e.doc) && !c.expired(e.doc, now) {
			out = append(out, e.doc)
		}
	}
	return out, c.lsn, nil
}

// values decodes documents (outside the container's lock: the first
// query of a version decodes it).
func values(docs []*document) []map[string]any {
	out := make([]map[string]any, len(docs))
	for i, d := range docs {
		out[i] = d.value()
	}
	return out
}

// routing returns the container's current partition key ranges.
func (c *container) routing() *routing { return c.routes.Load() }

// readFeed serves the change feed up to the durable LSN.
func (c *container) readFeed(q feedQuery) (feedPage, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.deleted {
		return feedPage{}, errContainerGone(c.id)
	}
	q.upTo = c.durable.load()
	if q.fromNow {
		q.after = q.upTo
	}
	page := c.feed.read(q)
	if c.ttl.Load() != ttlOff { // the page's continuation still covers what expired
		now := c.clock.now().Unix()
		page.docs = slices.DeleteFunc(page.docs, func(d *document) bool { return c.expired(d, now) })
	}
	return page, nil
}

// checkReplacement rejects replacement properties that change the id or
// the partition key paths.
func (c *container) checkReplacement(props map[string]any) error {
	pk, err := parsePKDef(props)
	if err != nil {
		return err
	}
	if id, _ := props["id"].(string); id != c.id || !slices.EqualFunc(pk.paths, c.pk.paths, slices.Equal) ||
		pk.version != c.pk.version || pk.multiHash != c.pk.multiHash {
		return errBadRequest("A container replace cannot change the id or the partition key.")
	}
	return nil
}

// withPKVersion fills in the partition key version of container
// properties that do not name one: 2 for a new container (Cosmos DB's
// default, and what azcosmos then reads back), the current one for a
// replacement.
func withPKVersion(props map[string]any, version int) {
	if def, ok := props["partitionKey"].(map[string]any); ok {
		if _, set := def["version"]; !set {
			def["version"] = float64(version)
		}
	}
}
