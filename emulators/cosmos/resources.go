package cosmos

import (
	"net/http"
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
	o, err := parseProvision(r.Header)
	if err != nil {
		return err
	}
	d, err := s.store.createDatabase(props.ID, o)
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
	o, err := parseProvision(r.Header)
	if err != nil {
		return err
	}
	if o != nil {
		props[provisionProperty] = o
	}
	c, err := s.store.createContainer(rt.db, props)
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

// pkRangesETag never changes: a container always has one range.
const pkRangesETag = `"pkranges-1"`

func (s *Server) readPKRanges(w http.ResponseWriter, r *http.Request, rt route) error {
	c, err := s.store.container(rt.db, rt.coll)
	if err != nil {
		return err
	}
	w.Header().Set("etag", pkRangesETag)
	if r.Header.Get("If-None-Match") != "" {
		writeJSON(w, http.StatusNotModified, "1", nil)
		return nil
	}
	rng := `{"id":"0","_rid":"` + c.rid + `","_self":"` + c.self() + `pkranges/0/","_etag":"\"00000000-0000-0000-0000-000000000000\"",` +
		`"minInclusive":"","maxExclusive":"FF","ridPrefix":0,"throughputFraction":1,"status":"online","parents":[]}`
	writeJSON(w, http.StatusOK, "1", feedBody(c.rid, "PartitionKeyRanges", [][]byte{[]byte(rng)}))
	return nil
}
