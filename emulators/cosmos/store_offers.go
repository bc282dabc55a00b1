package cosmos

import (
	"net/http"
	"time"
)

// partitionConfig sets partition counts directly, for tests: by
// "database/container" or by container id, else a default (0 = follow
// throughput).
type partitionConfig struct {
	byName map[string]int
	def    int
}

func (p partitionConfig) count(dbID, id string) int {
	if n, ok := p.byName[dbID+"/"+id]; ok {
		return n
	}
	if n, ok := p.byName[id]; ok {
		return n
	}
	return p.def
}

// offerOf finds the offer of a resource by its rid; the caller holds s.mu.
func (s *store) offerOf(rid string) *offer {
	for _, o := range s.offers {
		if o.ResourceRID == rid {
			return o
		}
	}
	return nil
}

// placeContainer decides a new container's offer (nil when it shares its
// database's) and its number of partitions; the caller holds s.mu.
func (s *store) placeContainer(d *database, c *container, t *throughput) (*offer, int) {
	var o *offer
	n := 1
	switch shared := s.offerOf(d.rid); {
	case t != nil:
		o, n = newOffer(c.num, c.self(), c.rid, *t), t.partitions()
	case shared != nil:
		n = shared.Throughput.partitions()
	default:
		o = newOffer(c.num, c.self(), c.rid, throughput{Manual: defaultThroughput})
	}
	if forced := s.partitions.count(d.id, c.id); forced > 0 {
		n = forced
	}
	return o, n
}

func (s *store) listOffers() [][]byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids := sortedKeys(s.offers)
	out := make([][]byte, len(ids))
	for i, id := range ids {
		out[i] = s.offers[id].body()
	}
	return out
}

func (s *store) offer(id string) (*offer, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	o, ok := s.offers[id]
	if !ok {
		return nil, newError(http.StatusNotFound, "Offer %s does not exist.", id)
	}
	return o, nil
}

// replaceOffer sets new throughput and splits the partitions it serves
// until there are enough for it.
func (s *store) replaceOffer(id string, t throughput, ifMatch string) (*offer, error) {
	o, p, err := s.updateOffer(id, t, ifMatch)
	if err != nil {
		return nil, err
	}
	return o, p.wait()
}

func (s *store) updateOffer(id string, t throughput, ifMatch string) (*offer, *pending, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.offers[id]
	switch {
	case !ok:
		return nil, nil, newError(http.StatusNotFound, "Offer %s does not exist.", id)
	case ifMatch != "" && ifMatch != "*" && ifMatch != old.etag():
		return nil, nil, errPrecondition()
	case (old.Throughput.AutoMax > 0) != (t.AutoMax > 0):
		return nil, nil, errBadRequest("Changing between manual and autoscale throughput is a migration, not a replace.")
	}
	if err := t.validate(); err != nil {
		return nil, nil, err
	}
	o := *old
	o.Throughput, o.Seq, o.TS = t, old.Seq+1, time.Now().Unix()
	s.offers[id] = &o
	grown := s.growServed(&o)
	return &o, s.journal.submit(persistOffer(&o, grown), noAfter), nil
}

// growServed splits the partitions of every container the offer serves
// up to what its throughput needs, and returns the containers it split.
func (s *store) growServed(o *offer) []*container {
	var grown []*container
	for _, d := range s.dbs {
		for _, c := range d.colls {
			serves := c.rid == o.ResourceRID || d.rid == o.ResourceRID && s.offerOf(c.rid) == nil
			if serves && c.grow(o.Throughput.partitions()) {
				grown = append(grown, c)
			}
		}
	}
	return grown
}

// grow splits the widest range until the container has n ranges; it
// reports whether it split any. The caller holds the store's lock, which
// orders every routing change.
func (c *container) grow(n int) bool {
	rt := c.routing()
	start := len(rt.Live)
	for len(rt.Live) < n {
		next, _, err := rt.split(c.pk, rt.widest(c.pk).ID)
		if err != nil {
			break
		}
		rt = next
	}
	c.routes.Store(rt)
	return len(rt.Live) > start
}

// splitRange splits one range of a container in two.
func (s *store) splitRange(dbID, id, rangeID string) ([2]*pkRange, error) {
	kids, p, err := s.applySplit(dbID, id, rangeID)
	if err != nil {
		return kids, err
	}
	return kids, p.wait()
}

func (s *store) applySplit(dbID, id, rangeID string) ([2]*pkRange, *pending, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.lookup(dbID, id)
	if err != nil {
		return [2]*pkRange{}, nil, err
	}
	next, kids, err := c.routing().split(c.pk, rangeID)
	if err != nil {
		return kids, nil, err
	}
	c.routes.Store(next)
	return kids, s.journal.submit(persistRouting(c), noAfter), nil
}
