package cosmos

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"time"
)

// itemOp is one item operation: a point request or one of a batch.
type itemOp struct {
	kind    string // Create, Replace, Upsert, Delete, Read, Patch
	id      string
	item    *item      // Create, Replace, Upsert
	patch   *patchSpec // Patch
	ifMatch string
	invalid *apiError // set when the operation could not be decoded
}

// opResult is the outcome of one itemOp.
type opResult struct {
	status int
	doc    *document // the version written or read; nil for Delete
	err    *apiError
	ru     float64 // request charge
}

// execute runs the operations on one partition key atomically: if one
// fails, none is applied and the others answer 424. It returns once its
// writes, and every write its answers depend on, are durable.
func (c *container) execute(ctx context.Context, pk pkey, ops []itemOp) ([]opResult, error) {
	p, results, seen, err := c.apply(pk, ops)
	if err != nil {
		return nil, err
	}
	if err := p.wait(); err != nil {
		return nil, err
	}
	if err := c.durable.wait(ctx, seen); err != nil {
		return nil, err
	}
	return results, nil
}

// apply runs the operations under the container's lock. It returns the
// queued commit (nil when nothing was written) and the LSN the results
// depend on.
func (c *container) apply(pk pkey, ops []itemOp) (*pending, []opResult, uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.deleted {
		return nil, nil, 0, errContainerGone(c.id)
	}
	st := &stage{c: c, pk: pk, lsn: c.lsn, now: c.clock.now()}
	results := make([]opResult, len(ops))
	for i, op := range ops {
		results[i] = st.run(op)
		if results[i].err != nil {
			return nil, failDependents(results, i), c.lsn, nil
		}
	}
	p := c.commit(st)
	return p, results, c.lsn, nil
}

// failDependents marks every operation but the failed one 424.
func failDependents(results []opResult, failed int) []opResult {
	for i := range results {
		if i != failed {
			results[i] = opResult{status: http.StatusFailedDependency, err: newError(http.StatusFailedDependency,
				"Operation failed because another operation in the batch failed.")}
		}
	}
	return results
}

// stage is a batch's view of a partition: the committed items overlaid
// with the batch's own changes, which are kept until commit.
type stage struct {
	c       *container
	pk      pkey
	lsn     uint64
	now     time.Time
	changes []change // in the order of their first change; a batch has at most 100

	// last is the last lookup: an operation looks its item up twice (to
	// run, and to charge), and the container's map is large.
	last struct {
		id  string
		doc *document
		ok  bool
	}
}

func (s *stage) current(id string) *document {
	if s.last.ok && s.last.id == id {
		return s.last.doc
	}
	key := docKey(s.pk.key, id)
	d, ok := s.changed(key)
	if !ok {
		if d = s.c.docs[key]; d != nil && s.c.expired(d, s.now.Unix()) {
			d = nil // as good as deleted
		}
	}
	s.last.id, s.last.doc, s.last.ok = id, d, true
	return d
}

func (s *stage) set(key string, d *document) {
	s.last.ok = false
	for i := range s.changes {
		if s.changes[i].key == key {
			s.changes[i].doc = d
			return
		}
	}
	s.changes = append(s.changes, change{key: key, doc: d})
}

// change is the new version of an item in a stage; doc is nil when the
// item was deleted.
type change struct {
	key string
	doc *document
}

func (s *stage) changed(key string) (*document, bool) {
	for _, ch := range s.changes {
		if ch.key == key {
			return ch.doc, true
		}
	}
	return nil, false
}

// put writes a new version of an item with the given rid ("" = new item).
func (s *stage) put(it *item, id, rid string) (*document, *apiError) {
	if got := s.c.pk.keyOfItem(it); got != s.pk.key {
		return nil, errBadRequest("PartitionKey extracted from document doesn't match the one specified in the header.")
	}
	ttl, err := itemTTL(it)
	if err != nil {
		return nil, err
	}
	s.lsn++
	if rid == "" {
		rid = itemRID(s.c.ridBytes, s.lsn)
	}
	d := &document{id: id, pk: s.pk.key, epk: s.pk.epk, rid: rid, lsn: s.lsn, etag: itemETag(s.c.num, s.lsn),
		ts: s.now.Unix(), atNs: s.now.UnixNano(), ttl: ttl}
	if err := seal(it, d, s.c.self()+"docs/"+rid+"/"); err != nil {
		s.lsn--
		return nil, err
	}
	s.set(d.key(), d)
	return d, nil
}

// commit applies a successful stage to the container and queues it for
// the journal. The caller holds c.mu.
func (c *container) commit(st *stage) *pending {
	if len(st.changes) == 0 {
		return nil
	}
	c.lsn = st.lsn
	added, doomed := c.applyChanges(st.changes)
	slices.SortFunc(added, func(a, b *document) int { return cmp.Compare(a.lsn, b.lsn) })
	for _, d := range added {
		c.feed.append(c.routing(), d)
	}
	lsn := c.lsn
	if c.journal == nil { // in memory: durable once applied, nothing to encode
		c.durable.moveTo(lsn)
		return nil
	}
	doomed = append(doomed, c.garbage.due(lsn)...)
	return c.journal.submit(persistItems(c, st, doomed), func(err error) {
		if err != nil {
			c.durable.fail(err)
			return
		}
		c.durable.moveTo(lsn)
	})
}

// applyChanges puts a stage's changes in the container. It returns the new
// versions, and the LSNs of the versions the commit deletes from the file:
// those of deleted items with their garbage. Replaced versions become
// garbage. The caller holds c.mu.
func (c *container) applyChanges(changes []change) (added []*document, doomed []uint64) {
	for _, ch := range changes {
		old, existed := c.docs[ch.key]
		if existed {
			c.feed.kill(old)
		}
		switch {
		case ch.doc == nil:
			delete(c.docs, ch.key)
			if existed {
				doomed = append(doomed, old.lsn)
			}
			doomed = append(doomed, c.garbage.take(ch.key)...)
			continue
		case existed && c.journal != nil:
			c.garbage.add(ch.key, old.lsn)
		}
		c.docs[ch.key] = ch.doc
		c.expiry.written(ch.key, ch.doc, c.ttl.Load())
		added = append(added, ch.doc)
	}
	return added, doomed
}
