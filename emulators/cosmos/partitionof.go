package cosmos

import "net/http"

// partitionOf maps an item request (route kinds "docs" and "doc") to the
// container and the partition key range it addresses, for per-partition
// accounting such as throttling: the range named by
// x-ms-documentdb-partitionkeyrangeid (change feed, ReadMany), else the
// range that owns the x-ms-documentdb-partitionkey value (point
// operations, batches, single-partition queries). rangeID is "" for a
// request that spans every range (a cross-partition query). It costs one
// container lookup and, with a partition key, one hash.
func (s *Server) partitionOf(r *http.Request, rt route) (c *container, rangeID string, err error) {
	if rt.kind != "docs" && rt.kind != "doc" {
		return nil, "", nil
	}
	if c, err = s.store.container(rt.db, rt.coll); err != nil {
		return nil, "", err
	}
	if id := header(r, hdrPKRangeID); id != "" {
		return c, id, nil
	}
	pk, ok, err := parsePKHeaderFor(header(r, hdrPartitionKey), c.pk)
	if err != nil || !ok {
		return c, "", err
	}
	return c, c.routing().owner(pk.epk).ID, nil
}
