package cosmos

import (
	"encoding/json"
	"net/http"
	"sort"
	"sync"
	"time"
)

// store holds every database and container, in memory, backed by the
// journal when the emulator has a data directory.
type store struct {
	mu      sync.RWMutex
	dbs     map[string]*database
	ridSeq  uint32
	journal *journal // nil in memory
}

type database struct {
	id    string
	num   uint32
	rid   string
	body  []byte
	etag  string
	colls map[string]*container
}

func newStore() *store {
	return &store{dbs: map[string]*database{}}
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

func (s *store) createDatabase(id string) (*database, error) {
	if id == "" {
		return nil, errBadRequest("The input content is invalid because the required properties - 'id; ' - are missing.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.dbs[id]; ok {
		return nil, newError(http.StatusConflict, "Database %s already exists.", id)
	}
	d := newDatabase(id, s.nextRID(), time.Now().Unix())
	s.dbs[id] = d
	return d, s.journal.submit(persistDatabase(d, s.ridSeq), func() {}).wait()
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
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.dbs[id]
	if !ok {
		return newError(http.StatusNotFound, "Database %s does not exist.", id)
	}
	delete(s.dbs, id)
	for _, c := range d.colls {
		c.markDeleted()
	}
	return s.journal.submit(unpersistDatabase(d), func() {}).wait()
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

func (s *store) createContainer(dbID string, props map[string]any) (*container, error) {
	id, _ := props["id"].(string)
	if id == "" {
		return nil, errBadRequest("The input content is invalid because the required properties - 'id; ' - are missing.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.dbs[dbID]
	if !ok {
		return nil, newError(http.StatusNotFound, "Database %s does not exist.", dbID)
	}
	if _, ok := d.colls[id]; ok {
		return nil, newError(http.StatusConflict, "Container %s already exists.", id)
	}
	c, err := newContainer(d, s.nextRID(), props, time.Now().Unix())
	if err != nil {
		return nil, err
	}
	c.journal = s.journal
	d.colls[id] = c
	return c, s.journal.submit(persistContainer(c, s.ridSeq), func() {}).wait()
}

func (s *store) container(dbID, id string) (*container, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.lookup(dbID, id)
}

// lookup finds a container; the caller holds s.mu.
func (s *store) lookup(dbID, id string) (*container, error) {
	d, ok := s.dbs[dbID]
	if !ok {
		return nil, newError(http.StatusNotFound, "Database %s does not exist.", dbID)
	}
	c, ok := d.colls[id]
	if !ok {
		return nil, newError(http.StatusNotFound, "Container %s does not exist.", id)
	}
	return c, nil
}

func (s *store) deleteContainer(dbID, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.lookup(dbID, id)
	if err != nil {
		return err
	}
	delete(c.db.colls, id)
	c.markDeleted()
	return s.journal.submit(unpersistContainer(c), func() {}).wait()
}

func (s *store) listContainers(dbID string) ([][]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.dbs[dbID]
	if !ok {
		return nil, newError(http.StatusNotFound, "Database %s does not exist.", dbID)
	}
	ids := sortedKeys(d.colls)
	out := make([][]byte, len(ids))
	for i, id := range ids {
		out[i] = d.colls[id].body
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
