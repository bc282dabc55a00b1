package cosmos

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// document is one committed version of an item. It is never modified after
// it is committed; a write creates a new version.
type document struct {
	id   string
	pk   string // canonical partition key JSON
	epk  string // effective partition key: places the item in a range
	rid  string
	etag string
	ts   int64 // _ts, seconds
	atNs int64 // commit time, nanoseconds, for the change feed's StartFrom
	lsn  uint64
	ttl  int32  // the item's own time to live, seconds; 0 when it has none
	body []byte // the JSON served to clients, system properties included

	decoded      sync.Once
	decodedValue map[string]any // body decoded, on first use; shared, never mutated
}

// value is the body decoded (queries, patches and some charges need it;
// most writes and reads never do).
func (d *document) value() map[string]any {
	d.decoded.Do(func() {
		if d.decodedValue == nil {
			_ = json.Unmarshal(d.body, &d.decodedValue)
		}
	})
	return d.decodedValue
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

// item is the content of a write before the service adds its system
// properties: a request body encoded member by member (members, buf), or
// a decoded value (value) when the body needed encoding/json or the item
// was patched.
type item struct {
	id      string
	members []member // sorted by name, unique, no system property
	buf     []byte   // the members' encodings and plain names
	names   []byte   // the members' escaped names, decoded
	value   map[string]any
}

func (it *item) name(m member) []byte {
	if m.escaped {
		return it.names[m.nameFrom:m.nameTo]
	}
	return it.buf[m.nameFrom:m.nameTo]
}

// member returns the encoded value of the top-level member name.
func (it *item) member(name string) ([]byte, bool) {
	i, ok := slices.BinarySearchFunc(it.members, name, func(m member, name string) int {
		return compareName(it.name(m), name)
	})
	if !ok {
		return nil, false
	}
	m := it.members[i]
	return it.buf[m.valFrom:m.to], true
}

// compareName is strings.Compare(string(b), s) without the conversion.
func compareName(b []byte, s string) int {
	for i := 0; i < len(b) && i < len(s); i++ {
		if b[i] != s[i] {
			return cmp.Compare(b[i], s[i])
		}
	}
	return cmp.Compare(len(b), len(s))
}

// decodeItem parses a request body into an item and validates its id.
func decodeItem(raw []byte) (*item, error) {
	if len(raw) > maxDocumentSize {
		return nil, newError(413, "Request size is too large.")
	}
	it, err := encodeMembers(raw)
	if err != nil {
		return decodeItemValue(raw)
	}
	id, ok := it.member("id")
	if !ok || id[0] != '"' {
		_, err := itemID(nil)
		return nil, err
	}
	s := string(id[1 : len(id)-1])
	if !plainString(id) {
		_ = json.Unmarshal(id, &s) // valid: encodeMembers wrote it
	}
	it.id, err = checkItemID(s)
	return it, err
}

// decodeItemValue is decodeItem through encoding/json.
func decodeItemValue(raw []byte) (*item, error) {
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil || v == nil {
		return nil, errBadRequest("The input content is invalid because the required properties - 'id; ' - are missing or the body is not a JSON object.")
	}
	id, err := itemID(v)
	return &item{id: id, value: v}, err
}

func itemID(v map[string]any) (string, error) {
	id, _ := v["id"].(string)
	return checkItemID(id)
}

func checkItemID(id string) (string, error) {
	if id == "" {
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
func seal(it *item, d *document, self string) *apiError {
	if it.value != nil {
		return sealValue(it.value, d, self)
	}
	body := sealMembers(it, d, self)
	if len(body) > maxDocumentSize {
		return newError(413, "Request size is too large.")
	}
	d.body = body
	return nil
}

// sealValue is seal of a decoded item.
func sealValue(v map[string]any, d *document, self string) *apiError {
	for _, p := range systemProperties {
		delete(v, p)
	}
	v["_rid"] = d.rid
	v["_self"] = self
	v["_etag"] = d.etag
	v["_ts"] = d.ts
	v["_attachments"] = "attachments/"
	body, err := appendValue(make([]byte, 0, 512), v)
	if err != nil {
		return errBadRequest("The document cannot be encoded: %v.", err)
	}
	if len(body) > maxDocumentSize {
		return newError(413, "Request size is too large.")
	}
	d.body, d.decodedValue = body, v
	// _ts as float64, as a decoded body would hold it.
	v["_ts"] = float64(d.ts)
	return nil
}

// sealedNames are the system properties seal sets, in encoding order.
var sealedNames = [...]string{"_attachments", "_etag", "_rid", "_self", "_ts"}

// sealMembers encodes an item's members with the system properties merged
// in by name, as encoding/json encodes the map sealValue builds.
func sealMembers(it *item, d *document, self string) []byte {
	out := make([]byte, 0, len(it.buf)+len(self)+len(d.rid)+len(d.etag)+96)
	out = append(out, '{')
	next := 0
	for _, m := range it.members {
		for next < len(sealedNames) && sealedNames[next] < string(it.name(m)) {
			out = appendSealed(out, next, d, self)
			next++
		}
		out = append(comma(out), it.buf[m.from:m.to]...)
	}
	for ; next < len(sealedNames); next++ {
		out = appendSealed(out, next, d, self)
	}
	return append(out, '}')
}

// comma separates a member from the one before it.
func comma(out []byte) []byte {
	if out[len(out)-1] != '{' {
		return append(out, ',')
	}
	return out
}

func appendSealed(out []byte, i int, d *document, self string) []byte {
	out = append(comma(out), '"')
	out = append(out, sealedNames[i]...)
	out = append(out, '"', ':')
	switch i {
	case 0:
		return append(out, `"attachments/"`...)
	case 1:
		return appendString(out, d.etag)
	case 2:
		return appendString(out, d.rid)
	case 3:
		return appendString(out, self)
	}
	return strconv.AppendInt(out, d.ts, 10)
}
