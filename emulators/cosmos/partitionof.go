package cosmos

import "net/http"

// partitionOf maps an item request (route kinds "docs" and "doc") to the
// container and the partition key range it addresses, for per-partition
// accounting such as throttling. Every container has one range, "0".
func (s *Server) partitionOf(_ *http.Request, rt route) (c *container, rangeID string, err error) {
	if rt.kind != "docs" && rt.kind != "doc" {
		return nil, "", nil
	}
	if c, err = s.store.container(rt.db, rt.coll); err != nil {
		return nil, "", err
	}
	return c, "0", nil
}
