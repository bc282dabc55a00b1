package cosmos

import "net/http"

// run executes one operation against the stage and charges it.
func (s *stage) run(op itemOp) opResult {
	prev := s.current(op.id)
	res := s.dispatch(op)
	res.ru = s.c.opRU(op, prev, res)
	return res
}

func (s *stage) dispatch(op itemOp) opResult {
	if op.invalid != nil {
		return failed(op.invalid)
	}
	switch op.kind {
	case "Create":
		return s.create(op)
	case "Replace":
		return s.replace(op)
	case "Upsert":
		return s.upsert(op)
	case "Delete":
		return s.remove(op)
	case "Read":
		return s.readOne(op)
	case "Patch":
		return s.patchOne(op)
	}
	return failed(errBadRequest("Unknown operation type %q.", op.kind))
}

func failed(err *apiError) opResult { return opResult{status: err.status, err: err} }

func written(status int, d *document, err *apiError) opResult {
	if err != nil {
		return failed(err)
	}
	return opResult{status: status, doc: d}
}

func (s *stage) create(op itemOp) opResult {
	if s.current(op.id) != nil {
		return failed(errConflict())
	}
	d, err := s.put(op.item, op.id, "")
	return written(http.StatusCreated, d, err)
}

// existing returns the current version, checking existence and If-Match.
func (s *stage) existing(op itemOp) (*document, *apiError) {
	cur := s.current(op.id)
	if cur == nil {
		return nil, errNotFound()
	}
	if op.ifMatch != "" && op.ifMatch != "*" && op.ifMatch != cur.etag {
		return nil, errPrecondition()
	}
	return cur, nil
}

func (s *stage) replace(op itemOp) opResult {
	cur, err := s.existing(op)
	if err != nil {
		return failed(err)
	}
	if id := op.item.id; id != op.id {
		return failed(errBadRequest("The id in the body (%q) does not match the id in the request (%q).", id, op.id))
	}
	d, err := s.put(op.item, op.id, cur.rid)
	return written(http.StatusOK, d, err)
}

// upsert replaces (honouring If-Match) or, like Cosmos DB, creates the
// item when it does not exist, whatever If-Match says.
func (s *stage) upsert(op itemOp) opResult {
	if s.current(op.id) == nil {
		return s.create(op)
	}
	return s.replace(op)
}

func (s *stage) remove(op itemOp) opResult {
	cur, err := s.existing(op)
	if err != nil {
		return failed(err)
	}
	s.set(cur.key(), nil)
	return opResult{status: http.StatusNoContent}
}

func (s *stage) readOne(op itemOp) opResult {
	cur := s.current(op.id)
	if cur == nil {
		return failed(errNotFound())
	}
	return opResult{status: http.StatusOK, doc: cur}
}

func (s *stage) patchOne(op itemOp) opResult {
	cur, err := s.existing(op)
	if err != nil {
		return failed(err)
	}
	v, err := op.patch.apply(cur.value(), s.c.pk)
	if err != nil {
		return failed(err)
	}
	d, err := s.put(&item{id: op.id, value: v}, op.id, cur.rid)
	return written(http.StatusOK, d, err)
}
