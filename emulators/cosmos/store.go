package cosmos

import (
	"encoding/json"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// store holds every database and container, in memory, backed by the
// journal when the emulator has a data directory.
type store struct {
	mu         sync.RWMutex // orders every control-plane change, routing included
	dbs        map[string]*database
	offers     map[string]*offer // by offer id
	ridSeq     uint32
	journal    *journal // nil in memory
	partitions partitionConfig
	clock      *timeSource // every container's
}

type database struct {
	id    string
	num   uint32
	rid   string
	body  []byte
	etag  string
	colls map[string]*container

	offer atomic.Pointer[offer] // shared throughput (a copy of the store's); nil when none
}

// noAfter is the journal callback of control-plane changes.
func noAfter(error) {}

func newStore() *store {
	return &store{dbs: map[string]*database{}, offers: map[string]*offer{}, clock: &timeSource{now: time.Now}}
}

func (s *store) nextRID() uint32 {
	s.ridSeq++
	return s.ridSeq
}

func newDatabase(id string, num uint32, ts int64) *database {
	d := &database{id: id, num: num, rid: databaseRID(num), colls: map[string]*container{}}
	d.etag = resourceETag(num, ts)
	d.body, _ = json.Marshal(map[string]any{
		"id": id, "_rid": d.rid, "_self": "dbs/" + d.rid + "/", "_etag": d.etag,
		"_colls": "colls/", "_users": "users/", "_ts": ts,
	})
	return d
}

// Control-plane changes are queued for the journal under s.mu, which
// orders them, and waited for after it is released.

func (s *store) createDatabase(id string, t *throughput) (*database, error) {
	if err := validResourceID(id); err != nil {
		return nil, err
	}
	d, p, err := s.addDatabase(id, t)
	if err != nil {
		return nil, err
	}
	return d, p.wait()
}

func (s *store) addDatabase(id string, t *throughput) (*database, *pending, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.dbs[id]; ok {
		return nil, nil, newError(http.StatusConflict, "Database %s already exists.", id)
	}
	d := newDatabase(id, s.nextRID(), time.Now().Unix())
	s.dbs[id] = d
	var o *offer
	if t != nil {
		o = newOffer(d.num, "dbs/"+d.rid+"/", d.rid, *t)
		s.offers[o.ID] = o
		d.offer.Store(o)
	}
	return d, s.journal.submit(persistDatabase(d, o, s.ridSeq), noAfter), nil
}

func (s *store) database(id string) (*database, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.dbs[id]
	if !ok {
		return nil, newError(http.StatusNotFound, "Database %s does not exist.", id)
	}
	return d, nil
}

func (s *store) deleteDatabase(id string) error {
	p, err := s.removeDatabase(id)
	if err != nil {
		return err
	}
	return p.wait()
}

func (s *store) removeDatabase(id string) (*pending, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.dbs[id]
	if !ok {
		return nil, newError(http.StatusNotFound, "Database %s does not exist.", id)
	}
	delete(s.dbs, id)
	for _, c := range d.colls {
		c.markDeleted()
		s.dropOffer(c.rid)
	}
	s.dropOffer(d.rid)
	return s.journal.submit(unpersistDatabase(d), noAfter), nil
}

func (s *store) listDatabases() [][]byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids := sortedKeys(s.dbs)
	out := make([][]byte, len(ids))
	for i, id := range ids {
		out[i] = s.dbs[id].body
	}
	return out
}

// dropOffer forgets the offer of a resource; the caller holds s.mu.
func (s *store) dropOffer(rid string) {
	if o := s.offerOf(rid); o != nil {
		delete(s.offers, o.ID)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
