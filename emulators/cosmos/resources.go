package cosmos

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

func (s *Server) createDatabase(w http.ResponseWriter, r *http.Request, _ route) error {
	if isQuery(r) {
		return queryResources(w, r, "Databases", s.store.listDatabases())
	}
	var props struct {
		ID string `json:"id"`
	}
	if err := decodeJSON(r, &props); err != nil {
		return err
	}
	t, err := throughputHeaders(r)
	if err != nil {
		return err
	}
	d, err := s.store.createDatabase(props.ID, t)
	if err != nil {
		return err
	}
	w.Header().Set("etag", d.etag)
	writeJSON(w, http.StatusCreated, "1", d.body)
	return nil
}

func (s *Server) listDatabases(w http.ResponseWriter, _ *http.Request, _ route) error {
	writeJSON(w, http.StatusOK, "1", feedBody("", "Databases", s.store.listDatabases()))
	return nil
}

func (s *Server) readDatabase(w http.ResponseWriter, _ *http.Request, rt route) error {
	d, err := s.store.database(rt.db)
	if err != nil {
		return err
	}
	w.Header().Set("etag", d.etag)
	writeJSON(w, http.StatusOK, "1", d.body)
	return nil
}

func (s *Server) deleteDatabase(w http.ResponseWriter, _ *http.Request, rt route) error {
	if err := s.store.deleteDatabase(rt.db); err != nil {
		return err
	}
	writeJSON(w, http.StatusNoContent, "1", nil)
	return nil
}

func (s *Server) createContainer(w http.ResponseWriter, r *http.Request, rt route) error {
	if isQuery(r) {
		bodies, err := s.store.listContainers(rt.db)
		if err != nil {
			return err
		}
		return queryResources(w, r, "DocumentCollections", bodies)
	}
	var props map[string]any
	if err := decodeJSON(r, &props); err != nil {
		return err
	}
	t, err := throughputHeaders(r)
	if err != nil {
		return err
	}
	c, err := s.store.createContainer(rt.db, props, t)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, "1", c.properties())
	return nil
}

func (s *Server) listContainers(w http.ResponseWriter, _ *http.Request, rt route) error {
	bodies, err := s.store.listContainers(rt.db)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "1", feedBody("", "DocumentCollections", bodies))
	return nil
}

func (s *Server) readContainer(w http.ResponseWriter, _ *http.Request, rt route) error {
	c, err := s.store.container(rt.db, rt.coll)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "1", c.properties())
	return nil
}

// replaceContainer stores new properties (indexing policy, ...) that keep
// the id and the partition key.
func (s *Server) replaceContainer(w http.ResponseWriter, r *http.Request, rt route) error {
	var props map[string]any
	if err := decodeJSON(r, &props); err != nil {
		return err
	}
	c, err := s.store.replaceContainer(rt.db, rt.coll, props)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "1", c.properties())
	return nil
}

func (s *Server) deleteContainer(w http.ResponseWriter, _ *http.Request, rt route) error {
	if err := s.store.deleteContainer(rt.db, rt.coll); err != nil {
		return err
	}
	writeJSON(w, http.StatusNoContent, "1", nil)
	return nil
}

// readPKRanges lists a container's partition key ranges. With "A-IM:
// Incremental Feed" (how azcosmos refreshes its routing map) it is a
// change feed: If-None-Match is the routing version last read, the answer
// lists the ranges created since (their parents are gone), and 304 means
// none. Without it, it lists every live range. The etag is the version.
func (s *Server) readPKRanges(w http.ResponseWriter, r *http.Request, rt route) error {
	c, err := s.store.container(rt.db, rt.coll)
	if err != nil {
		return err
	}
	routes := c.routing()
	etag := pkRangesETag(routes.Version)
	w.Header().Set("etag", etag)
	inm := header(r, "If-None-Match")
	if inm == etag {
		writeJSON(w, http.StatusNotModified, "1", nil)
		return nil
	}
	ranges := routes.Live
	incremental := strings.EqualFold(header(r, hdrChangeFeed), "Incremental Feed")
	if v, ok := parsePKRangesETag(inm); ok && v < routes.Version && incremental {
		ranges = routes.since(v)
	}
	items := make([][]byte, len(ranges))
	for i, p := range ranges {
		items[i] = pkRangeBody(c, p)
	}
	writeJSON(w, http.StatusOK, "1", feedBody(c.rid, "PartitionKeyRanges", items))
	return nil
}

func pkRangesETag(version uint64) string { return `"pkranges-` + strconv.FormatUint(version, 10) + `"` }

func parsePKRangesETag(etag string) (uint64, bool) {
	v, ok := strings.CutPrefix(strings.Trim(etag, `"`), "pkranges-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, 64)
	return n, err == nil
}

func pkRangeBody(c *container, p *pkRange) []byte {
	b, _ := json.Marshal(map[string]any{
		"id": p.ID, "_rid": c.rid, "_self": c.self() + "pkranges/" + p.ID + "/", "_etag": pkRangesETag(p.Since),
		"minInclusive": p.Min, "maxExclusive": p.Max, "ridPrefix": p.ridPrefix(), "throughputFraction": 1 / float64(len(c.routing().Live)),
		"status": "online", "parents": p.Parents,
	})
	return b
}
