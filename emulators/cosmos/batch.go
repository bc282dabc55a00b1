package cosmos

import (
	"encoding/json"
	"net/http"
	"strings"
)

const maxBatchOperations = 100

// batchOperation is one element of a transactional batch request body.
type batchOperation struct {
	OperationType string          `json:"operationType"`
	ID            string          `json:"id"`
	IfMatch       string          `json:"ifMatch"`
	ResourceBody  json.RawMessage `json:"resourceBody"`
}

// batchResult is one element of a transactional batch response body.
type batchResult struct {
	StatusCode    int             `json:"statusCode"`
	RequestCharge float64         `json:"requestCharge"`
	ETag          string          `json:"eTag,omitempty"`
	ResourceBody  json.RawMessage `json:"resourceBody,omitempty"`
}

func (s *Server) batch(w http.ResponseWriter, r *http.Request, rt route) error {
	c, err := s.store.container(rt.db, rt.coll)
	if err != nil {
		return err
	}
	pk, err := partitionKey(r, c, nil)
	if err != nil {
		return err
	}
	var raw []batchOperation
	if err := decodeJSON(r, &raw); err != nil {
		return err
	}
	if len(raw) == 0 || len(raw) > maxBatchOperations {
		return errBadRequest("A transactional batch must have between 1 and %d operations, not %d.", maxBatchOperations, len(raw))
	}
	ops := make([]itemOp, len(raw))
	for i, b := range raw {
		ops[i] = b.toItemOp()
	}
	results, err := c.execute(r.Context(), pk, ops)
	if err != nil {
		return err
	}
	return writeBatch(w, ops, results, strings.Contains(r.Header.Get(hdrPrefer), "return=minimal"))
}

func (b batchOperation) toItemOp() itemOp {
	op := itemOp{kind: b.OperationType, id: b.ID, ifMatch: b.IfMatch}
	switch b.OperationType {
	case "Create", "Upsert", "Replace":
		it, err := decodeItem(b.ResourceBody)
		if err != nil {
			op.invalid = err.(*apiError)
			return op
		}
		if b.OperationType == "Replace" && it.id != b.ID {
			op.invalid = errBadRequest("The id in the body (%q) does not match the operation's id (%q).", it.id, b.ID)
		}
		op.id, op.item = it.id, it
	case "Patch":
		op.patch, op.invalid = decodePatch(b.ResourceBody)
	case "Delete", "Read":
	default:
		op.invalid = errBadRequest("Unknown batch operation type %q.", b.OperationType)
	}
	return op
}

func writeBatch(w http.ResponseWriter, ops []itemOp, results []opResult, minimal bool) error {
	out := make([]batchResult, len(results))
	status, total := http.StatusOK, 0.0
	for i, res := range results {
		out[i] = toBatchResult(ops[i].kind == "Read", res, minimal)
		total += res.ru
		if res.err != nil {
			status = http.StatusMultiStatus
		}
	}
	body, err := json.Marshal(out)
	if err != nil {
		return err
	}
	writeJSON(w, status, formatRU(total), body)
	return nil
}

func toBatchResult(read bool, res opResult, minimal bool) batchResult {
	out := batchResult{StatusCode: res.status, RequestCharge: roundRU(res.ru)}
	if res.err != nil || res.doc == nil {
		return out
	}
	out.ETag = res.doc.etag
	if read || !minimal {
		out.ResourceBody = res.doc.body
	}
	return out
}
