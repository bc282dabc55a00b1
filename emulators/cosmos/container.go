package cosmos

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
)

// container holds a container's items, its change feed and its LSN.
type container struct {
	db       *database
	id       string
	num      uint32
	ridBytes [8]byte
	rid      string
	body     atomic.Pointer[[]byte] // properties served to clients
	pk       pkDef
	journal  *journal

	index     atomic.Pointer[indexPolicy] // from the properties; counts a write's indexed properties
	provision atomic.Pointer[provision]   // throughput provisioned at creation; nil when none

	mu      sync.RWMutex
	docs    map[string]*document // by docKey
	feed    feedLog
	lsn     uint64 // last LSN assigned
	deleted bool

	durable horizon // every write up to it is durable
}

func newContainer(d *database, num uint32, props map[string]any, ts int64) (*container, error) {
	o := takeProvision(props)
	pk, err := parsePKDef(props)
	if err != nil {
		return nil, err
	}
	c := &container{db: d, id: props["id"].(string), num: num, pk: pk, docs: map[string]*document{}}
	c.ridBytes = containerRIDBytes(d.num, num)
	c.rid = base64.StdEncoding.EncodeToString(c.ridBytes[:])
	body, err := containerBody(props, c, ts)
	c.setProperties(body)
	c.provision.Store(o)
	return c, err
}

// properties returns the container's properties JSON.
func (c *container) properties() []byte { return *c.body.Load() }

func (c *container) setProperties(body []byte) {
	c.body.Store(&body)
	c.index.Store(parseIndexPolicy(body))
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
	if !ok {
		return nil, c.lsn, errNotFound()
	}
	return d, c.lsn, nil
}

// snapshot returns the decoded items of one partition key ("" = all), in
// change feed order, once they are durable.
func (c *container) snapshot(ctx context.Context, pk string) ([]map[string]any, error) {
	out, seen, err := c.collect(pk)
	if err != nil {
		return nil, err
	}
	return out, c.durable.wait(ctx, seen)
}

func (c *container) collect(pk string) ([]map[string]any, uint64, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.deleted {
		return nil, 0, errContainerGone(c.id)
	}
	out := make([]map[string]any, 0, len(c.docs))
	for _, e := range c.feed.entries {
		if e.doc != nil && (pk == "" || e.doc.pk == pk) {
			out = append(out, e.doc.value)
		}
	}
	return out, c.lsn, nil
}

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
	return c.feed.read(q), nil
}

// checkReplacement rejects replacement properties that change the id or
// the partition key paths.
func (c *container) checkReplacement(props map[string]any) error {
	pk, err := parsePKDef(props)
	if err != nil {
		return err
	}
	if id, _ := props["id"].(string); id != c.id || !slices.EqualFunc(pk.paths, c.pk.paths, slices.Equal) {
		return errBadRequest("A container replace cannot change the id or the partition key.")
	}
	return nil
}
