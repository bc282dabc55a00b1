package cosmos

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
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
	raw, err := decodeBatch(r)
	if err != nil {
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
	return writeBatch(w, ops, results, strings.Contains(header(r, hdrPrefer), "return=minimal"))
}

// decodeBatch decodes a batch request body.
func decodeBatch(r *http.Request) ([]batchOperation, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	if ops, ok := decodeOps(body); ok {
		return ops, nil
	}
	var raw []batchOperation
	err = decodeBody(body, &raw)
	return raw, err
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

// writeBatch answers the results, encoded in a pooled buffer as writeFeed
// does: a batch's answer holds its documents.
func writeBatch(w http.ResponseWriter, ops []itemOp, results []opResult, minimal bool) error {
	buf := feedBuffers.Get().(*[]byte)
	body := slices.Grow((*buf)[:0], batchResponseSize(results))
	body = append(body, '[')
	status, total := http.StatusOK, 0.0
	for i, res := range results {
		if i > 0 {
			body = append(body, ',')
		}
		body = toBatchResult(ops[i].kind == "Read", res, minimal).append(body)
		total += res.ru
		if res.err != nil {
			status = http.StatusMultiStatus
		}
	}
	body = append(body, ']')
	writeJSON(w, status, formatRU(total), body)
	if cap(body) <= maxPooledFeed {
		*buf = body
		feedBuffers.Put(buf)
	}
	return nil
}

func batchResponseSize(results []opResult) int {
	n := 2
	for _, res := range results {
		n += 128
		if res.doc != nil {
			n += len(res.doc.body)
		}
	}
	return n
}

// append encodes the result as encoding/json encodes a batchResult; the
// resource body is already encoded as encoding/json encodes it.
func (b batchResult) append(out []byte) []byte {
	out = append(out, `{"statusCode":`...)
	out = strconv.AppendInt(out, int64(b.StatusCode), 10)
	out = append(out, `,"requestCharge":`...)
	out = appendFloat(out, b.RequestCharge)
	if b.ETag != "" {
		out = append(out, `,"eTag":`...)
		out = appendString(out, b.ETag)
	}
	if len(b.ResourceBody) > 0 {
		out = append(out, `,"resourceBody":`...)
		out = append(out, b.ResourceBody...)
	}
	return append(out, '}')
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
