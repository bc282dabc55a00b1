package cosmos

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// document is one committed version of an item. It is never modified after
// it is committed; a write creates a new version.
type document struct {
	id    string
	pk    string // canonical partition key JSON
	epk   string // effective partition key: places the item in a range
	rid   string
	etag  string
	ts    int64 // _ts, seconds
	atNs  int64 // commit time, nanoseconds, for the change feed's StartFrom
	lsn   uint64
	body  []byte         // the JSON served to clients, system properties included
	value map[string]any // body decoded; shared, never mutated
}

func (d *document) key() string { return docKey(d.pk, d.id) }

func docKey(pk, id string) string { return pk + "\x00" + id }

func splitDocKey(key string) (pk, id string) {
	pk, id, _ = strings.Cut(key, "\x00")
	return pk, id
}

// systemProperties are set by the service and ignored in request bodies.
var systemProperties = []string{"_rid", "_self", "_etag", "_ts", "_attachments", "_lsn"}

const maxDocumentSize = 2 << 20

// decodeItem parses a request body into an item and validates its id.
func decodeItem(raw []byte) (map[string]any, string, error) {
	if len(raw) > maxDocumentSize {
		return nil, "", newError(413, "Request size is too large.")
	}
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil || v == nil {
		return nil, "", errBadRequest("The input content is invalid because the required properties - 'id; ' - are missing or the body is not a JSON object.")
	}
	id, err := itemID(v)
	return v, id, err
}

func itemID(v map[string]any) (string, error) {
	id, ok := v["id"].(string)
	if !ok || id == "" {
		return "", errBadRequest("The input content is invalid because the required properties - 'id; ' - are missing.")
	}
	if len(id) > maxItemIDBytes || strings.ContainsAny(id, "/\\?#") {
		return "", errBadRequest("The input name '%s' is invalid. Ensure to not use the characters '/', '\\\\', '?' or '#' and a length of at most %d bytes.", id, maxItemIDBytes)
	}
	return id, nil
}

// Cosmos DB's limits on ids: an item id is at most 1,023 bytes, a database
// or container id at most 255 characters; none may hold '/', '\\', '?'
// or '#', which would break its resource path.
const (
	maxItemIDBytes     = 1023
	maxResourceIDChars = 255
)

// validResourceID checks a database or container id.
func validResourceID(id string) error {
	switch {
	case id == "":
		return errBadRequest("The input content is invalid because the required properties - 'id; ' - are missing.")
	case utf8.RuneCountInString(id) > maxResourceIDChars || strings.ContainsAny(id, "/\\?#") || strings.HasSuffix(id, " "):
		return errBadRequest("The input name '%s' is invalid. Ensure to not use the characters '/', '\\\\', '?' or '#', a trailing space, or more than %d characters.", id, maxResourceIDChars)
	}
	return nil
}

// seal adds system properties to a new version and encodes it.
func seal(v map[string]any, d *document, self string) error {
	for _, p := range systemProperties {
		delete(v, p)
	}
	v["_rid"] = d.rid
	v["_self"] = self
	v["_etag"] = d.etag
	v["_ts"] = d.ts
	v["_attachments"] = "attachments/"
	body, err := json.Marshal(v)
	if err != nil {
		return errBadRequest("The document cannot be encoded: %v.", err)
	}
	if len(body) > maxDocumentSize {
		return newError(413, "Request size is too large.")
	}
	d.body, d.value = body, v
	// _ts as float64, as a decoded body would hold it.
	v["_ts"] = float64(d.ts)
	return nil
}
