package cosmos

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
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
	body     []byte // properties served to clients
	pk       pkDef
	journal  *journal

	mu      sync.RWMutex
	docs    map[string]*document // by docKey
	feed    feedLog
	lsn     uint64 // last LSN assigned
	deleted bool

	durable atomic.Uint64 // last LSN known durable; the change feed's horizon
}

func newContainer(d *database, num uint32, props map[string]any, ts int64) (*container, error) {
	pk, err := parsePKDef(props)
	if err != nil {
		return nil, err
	}
	c := &container{db: d, id: props["id"].(string), num: num, pk: pk, docs: map[string]*document{}}
	c.ridBytes = containerRIDBytes(d.num, num)
	c.rid = base64.StdEncoding.EncodeToString(c.ridBytes[:])
	c.body, err = containerBody(props, c, ts)
	return c, err
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

// read returns the current version of an item.
func (c *container) read(pk, id string) (*document, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.deleted {
		return nil, errContainerGone(c.id)
	}
	d, ok := c.docs[docKey(pk, id)]
	if !ok {
		return nil, errNotFound()
	}
	return d, nil
}

// snapshot returns the decoded items of one partition key ("" = all), in
// change feed order.
func (c *container) snapshot(pk string) ([]map[string]any, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.deleted {
		return nil, errContainerGone(c.id)
	}
	out := make([]map[string]any, 0, len(c.docs))
	for _, e := range c.feed.entries {
		if e.doc != nil && (pk == "" || e.doc.pk == pk) {
			out = append(out, e.doc.value)
		}
	}
	return out, nil
}

// readFeed serves the change feed up to the durable LSN.
func (c *container) readFeed(q feedQuery) (feedPage, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.deleted {
		return feedPage{}, errContainerGone(c.id)
	}
	q.upTo = c.durable.Load()
	return c.feed.read(q), nil
}
