package cosmos

import (
	"net/http"
	"time"
)

func (s *store) createContainer(dbID string, props map[string]any, t *throughput) (*container, error) {
	id, _ := props["id"].(string)
	if err := validResourceID(id); err != nil {
		return nil, err
	}
	withPKVersion(props, 2)
	c, p, err := s.addContainer(dbID, id, props, t)
	if err != nil {
		return nil, err
	}
	return c, p.wait()
}

func (s *store) addContainer(dbID, id string, props map[string]any, t *throughput) (*container, *pending, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.dbs[dbID]
	if !ok {
		return nil, nil, newError(http.StatusNotFound, "Database %s does not exist.", dbID)
	}
	if _, ok := d.colls[id]; ok {
		return nil, nil, newError(http.StatusConflict, "Container %s already exists.", id)
	}
	c, err := newContainer(d, s.nextRID(), props, time.Now().Unix())
	if err != nil {
		return nil, nil, err
	}
	c.journal, c.clock = s.journal, s.clock
	o, n := s.placeContainer(d, c, t)
	c.routes.Store(newRouting(c.pk, n))
	if o != nil {
		s.offers[o.ID] = o
		c.offer.Store(o)
	}
	d.colls[id] = c
	return c, s.journal.submit(persistNewContainer(c, o, s.ridSeq), noAfter), nil
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
	p, err := s.removeContainer(dbID, id)
	if err != nil {
		return err
	}
	return p.wait()
}

func (s *store) removeContainer(dbID, id string) (*pending, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.lookup(dbID, id)
	if err != nil {
		return nil, err
	}
	delete(c.db.colls, id)
	c.markDeleted()
	s.dropOffer(c.rid)
	return s.journal.submit(unpersistContainer(c), noAfter), nil
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
		out[i] = d.colls[id].properties()
	}
	return out, nil
}

func (s *store) replaceContainer(dbID, id string, props map[string]any) (*container, error) {
	c, p, err := s.updateContainer(dbID, id, props)
	if err != nil {
		return nil, err
	}
	return c, p.wait()
}

func (s *store) updateContainer(dbID, id string, props map[string]any) (*container, *pending, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.lookup(dbID, id)
	if err != nil {
		return nil, nil, err
	}
	withPKVersion(props, c.pk.version)
	if err := c.checkReplacement(props); err != nil {
		return nil, nil, err
	}
	if _, err := containerTTL(props); err != nil {
		return nil, nil, err
	}
	body, err := containerBody(props, c, time.Now().Unix())
	if err != nil {
		return nil, nil, err
	}
	c.setProperties(body)
	return c, s.journal.submit(persistContainer(c, s.ridSeq), noAfter), nil
}
