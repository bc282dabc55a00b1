package cosmos

import (
	"net/http"
	"strconv"
	"strings"
)

func (s *Server) postDocs(w http.ResponseWriter, r *http.Request, rt route) error {
	switch {
	case isQuery(r):
		return s.query(w, r, rt)
	case isTrue(header(r, hdrIsBatch)):
		return s.batch(w, r, rt)
	case isTrue(header(r, hdrIsUpsert)):
		return s.writeItem(w, r, rt, "Upsert")
	}
	return s.writeItem(w, r, rt, "Create")
}

func (s *Server) getDocs(w http.ResponseWriter, r *http.Request, rt route) error {
	if strings.EqualFold(header(r, hdrChangeFeed), "Incremental Feed") {
		return s.changeFeed(w, r, rt)
	}
	return s.readFeed(w, r, rt)
}

func isTrue(v string) bool { return strings.EqualFold(v, "true") }

// partitionKey returns the request's partition key header; when it is
// absent, fallback (the body) supplies it, else the request is invalid.
func partitionKey(r *http.Request, c *container, fallback *item) (pkey, error) {
	pk, ok, err := parsePKHeaderFor(header(r, hdrPartitionKey), c.pk)
	switch {
	case err != nil:
		return pkey{}, err
	case ok:
		return pk, nil
	case fallback != nil:
		return c.pk.pkeyOfItem(fallback), nil
	}
	return pkey{}, errBadRequest("PartitionKey value must be supplied for this operation.")
}

func (s *Server) writeItem(w http.ResponseWriter, r *http.Request, rt route, kind string) error {
	c, err := s.store.container(rt.db, rt.coll)
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	it, err := decodeItem(body)
	if err != nil {
		return err
	}
	pk, err := partitionKey(r, c, it)
	if err != nil {
		return err
	}
	if kind == "Replace" && it.id != rt.id {
		return errBadRequest("The id in the body (%q) does not match the id in the request (%q).", it.id, rt.id)
	}
	op := itemOp{kind: kind, id: it.id, item: it, ifMatch: header(r, "If-Match")}
	return s.executeOne(w, r, c, pk, op)
}

func (s *Server) replaceItem(w http.ResponseWriter, r *http.Request, rt route) error {
	return s.writeItem(w, r, rt, "Replace")
}

func (s *Server) deleteItem(w http.ResponseWriter, r *http.Request, rt route) error {
	return s.pointOp(w, r, rt, itemOp{kind: "Delete", id: rt.id, ifMatch: header(r, "If-Match")})
}

func (s *Server) patchItem(w http.ResponseWriter, r *http.Request, rt route) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	spec, perr := decodePatch(body)
	if perr != nil {
		return perr
	}
	return s.pointOp(w, r, rt, itemOp{kind: "Patch", id: rt.id, patch: spec, ifMatch: header(r, "If-Match")})
}

func (s *Server) pointOp(w http.ResponseWriter, r *http.Request, rt route, op itemOp) error {
	c, err := s.store.container(rt.db, rt.coll)
	if err != nil {
		return err
	}
	pk, err := partitionKey(r, c, nil)
	if err != nil {
		return err
	}
	return s.executeOne(w, r, c, pk, op)
}

func (s *Server) executeOne(w http.ResponseWriter, r *http.Request, c *container, pk pkey, op itemOp) error {
	results, err := c.execute(r.Context(), pk, []itemOp{op})
	if err != nil {
		return err
	}
	res := results[0]
	if res.err != nil {
		return res.err.charged(res.ru)
	}
	minimal := strings.Contains(header(r, hdrPrefer), "return=minimal")
	lsn := c.durable.load()
	if res.doc != nil {
		lsn = res.doc.lsn
	}
	writeItem(w, res.status, res.doc, c.routing().owner(pk.epk).ID, lsn, res.ru, minimal)
	return nil
}

func (s *Server) readItem(w http.ResponseWriter, r *http.Request, rt route) error {
	c, err := s.store.container(rt.db, rt.coll)
	if err != nil {
		return err
	}
	pk, err := partitionKey(r, c, nil)
	if err != nil {
		return err
	}
	d, err := c.read(r.Context(), pk.key, rt.id)
	if err != nil {
		return chargeFailure(err)
	}
	if inm := header(r, "If-None-Match"); inm != "" && (inm == "*" || inm == d.etag) {
		w.Header().Set("Etag", d.etag)
		writeJSON(w, http.StatusNotModified, formatRU(failedOpRU), nil)
		return nil
	}
	writeItem(w, http.StatusOK, d, c.routing().owner(pk.epk).ID, d.lsn, readRU(len(d.body)), false)
	return nil
}

// writeItem answers one item of range rangeID that cost ru; d is nil for
// a delete.
func writeItem(w http.ResponseWriter, status int, d *document, rangeID string, lsn uint64, ru float64, minimal bool) {
	session := rangeID + ":-1#" + strconv.FormatUint(lsn, 10)
	if d == nil {
		setHeaders(w.Header(), hdrSessionToken, session)
		writeJSON(w, status, formatRU(ru), nil)
		return
	}
	setHeaders(w.Header(), hdrSessionToken, session, "Etag", d.etag, hdrLSN, strconv.FormatUint(d.lsn, 10))
	var body []byte
	if !minimal {
		body = d.body
	}
	writeJSON(w, status, formatRU(ru), body)
}
