package funchost

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// bindingReader reads the properties of one binding in function.json,
// resolving %NAME% app setting references, and remembers which properties
// were read so that anything left over is reported as unsupported.
type bindingReader struct {
	where    string // `ApplyTax/function.json: binding "documents" (cosmosDBTrigger)`
	raw      map[string]json.RawMessage
	read     map[string]bool
	hints    map[string]string // unsupported property -> what to use instead
	settings *appSettings
	errs     []error
}

func newBindingReader(where string, raw map[string]json.RawMessage, settings *appSettings) *bindingReader {
	b := &bindingReader{where: where, raw: map[string]json.RawMessage{}, read: map[string]bool{}, settings: settings}
	for k, v := range raw { // function.json property names are case-insensitive
		b.raw[strings.ToLower(k)] = v
	}
	b.read["type"], b.read["direction"], b.read["name"] = true, true, true
	return b
}

func (b *bindingReader) fail(format string, args ...any) {
	b.errs = append(b.errs, fmt.Errorf("%s: "+format, append([]any{b.where}, args...)...))
}

func (b *bindingReader) value(key string) (json.RawMessage, bool) {
	b.read[strings.ToLower(key)] = true
	v, ok := b.raw[strings.ToLower(key)]
	if ok && string(v) == "null" {
		return nil, false
	}
	return v, ok
}

// str reads a string property; setting references are resolved unless
// literal is set (connection names are setting names, not values).
func (b *bindingReader) str(key string, required, literal bool) string {
	v, ok := b.value(key)
	if !ok {
		if required {
			b.fail("property %q is required", key)
		}
		return ""
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		b.fail("property %q must be a string", key)
		return ""
	}
	if literal {
		return s
	}
	out, err := b.settings.resolve(s)
	if err != nil {
		b.fail("property %q: %v", key, err)
	}
	return out
}

func (b *bindingReader) boolean(key string) bool {
	v, ok := b.value(key)
	if !ok {
		return false
	}
	var out bool
	if err := json.Unmarshal(v, &out); err == nil {
		return out
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		if r, err := b.settings.resolve(s); err == nil {
			if out, err := strconv.ParseBool(r); err == nil {
				return out
			}
		}
	}
	b.fail("property %q must be true or false", key)
	return false
}

// integer reads a whole number; ok is false when the property is absent.
func (b *bindingReader) integer(key string) (n int, ok bool) {
	v, ok := b.value(key)
	if !ok {
		return 0, false
	}
	if err := json.Unmarshal(v, &n); err == nil {
		return n, true
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		if r, err := b.settings.resolve(s); err == nil {
			if n, err := strconv.Atoi(r); err == nil {
				return n, true
			}
		}
	}
	b.fail("property %q must be a whole number", key)
	return 0, false
}

func (b *bindingReader) strs(key string) []string {
	v, ok := b.value(key)
	if !ok {
		return nil
	}
	var out []string
	if err := json.Unmarshal(v, &out); err != nil {
		b.fail("property %q must be an array of strings", key)
	}
	return out
}

// notEmpty reports a property that is present but resolves to "".
func (b *bindingReader) notEmpty(key, resolved string) {
	if _, ok := b.raw[strings.ToLower(key)]; ok && resolved == "" {
		b.fail("property %q is empty", key)
	}
}

// ignore marks properties that are valid in Azure but mean nothing locally.
func (b *bindingReader) ignore(keys ...string) {
	for _, k := range keys {
		b.read[strings.ToLower(k)] = true
	}
}

// finish reports every property that was not read as unsupported.
func (b *bindingReader) finish() []error {
	var left []string
	for k := range b.raw {
		if !b.read[k] {
			left = append(left, k)
		}
	}
	sort.Strings(left)
	for _, k := range left {
		if hint, ok := b.hints[k]; ok {
			b.fail("property %q is not supported: %s", k, hint)
			continue
		}
		b.fail("property %q is not supported by the local host", k)
	}
	return b.errs
}
