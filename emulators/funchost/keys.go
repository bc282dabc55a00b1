package funchost

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"math/bits"
	"net/http"
	"strings"
)

// Key seeds and signature of the Functions host's SecretGenerator: a key
// is 40 random bytes whose bytes 33–35 encode "AzFu" and whose last four
// are a Marvin32 checksum of the first 36 under the seed, rendered as
// URL-safe base64 with padding (56 characters ending "==").
const (
	masterKeySeed   uint64 = 0x4d61737465723030 // "Master00"
	systemKeySeed   uint64 = 0x53797374656d3030 // "System00"
	functionKeySeed uint64 = 0x46756e6374693030 // "Functi00"
	keySignature           = "AzFu"
	keyBytes               = 40
)

// newKeyValue generates a key value the way the real host does.
func newKeyValue(seed uint64) string {
	b := make([]byte, keyBytes)
	rand.Read(b) //nolint:errcheck // crypto/rand.Read never fails
	sig, _ := base64.StdEncoding.DecodeString(keySignature)
	copy(b[keyBytes-7:keyBytes-4], sig)
	binary.LittleEndian.PutUint32(b[keyBytes-4:], marvin32(b[:keyBytes-4], seed))
	return base64.URLEncoding.EncodeToString(b)
}

// validKeyValue reports whether v has the shape and checksum newKeyValue gives.
func validKeyValue(v string, seed uint64) bool {
	b, err := base64.URLEncoding.DecodeString(v)
	if err != nil || len(b) != keyBytes || v[44:48] != keySignature {
		return false
	}
	return binary.LittleEndian.Uint32(b[keyBytes-4:]) == marvin32(b[:keyBytes-4], seed)
}

// marvin32 is the Marvin hash (as in .NET) folded to 32 bits.
func marvin32(data []byte, seed uint64) uint32 {
	p0, p1 := uint32(seed), uint32(seed>>32)
	for ; len(data) >= 4; data = data[4:] {
		p0 += binary.LittleEndian.Uint32(data)
		p0, p1 = marvinBlock(p0, p1)
	}
	final := uint32(0x80)
	for i := len(data) - 1; i >= 0; i-- {
		final = final<<8 | uint32(data[i])
	}
	p0 += final
	p0, p1 = marvinBlock(p0, p1)
	p0, p1 = marvinBlock(p0, p1)
	return p0 ^ p1
}

func marvinBlock(p0, p1 uint32) (uint32, uint32) {
	p1 ^= p0
	p0 = bits.RotateLeft32(p0, 20)
	p0 += p1
	p1 = bits.RotateLeft32(p1, 9)
	p1 ^= p0
	p0 = bits.RotateLeft32(p0, 27)
	p0 += p1
	p1 = bits.RotateLeft32(p1, 19)
	return p0, p1
}

// authLevel orders what a key opens, as the host's AuthorizationLevel.
type authLevel int

const (
	levelAnonymous authLevel = iota
	levelFunction
	levelSystem
	levelAdmin
)

func authLevelOf(s string) authLevel {
	switch s {
	case "anonymous":
		return levelAnonymous
	case "system":
		return levelSystem
	case "admin":
		return levelAdmin
	default: // "function" and the default when authLevel is left out
		return levelFunction
	}
}

// keyring holds the keys read from the secrets store.
type keyring struct {
	master    string
	host      []string            // host functionKeys: open every function-level function
	system    []string            // host systemKeys
	functions map[string][]string // lower-case function name -> its keys
	defaults  map[string]string   // lower-case function name -> its "default" key
}

// level is what the request's key (x-functions-key header, else ?code=)
// opens for function fn ("" for host routes).
func (k *keyring) level(r *http.Request, fn string) authLevel {
	key := r.Header.Get("x-functions-key")
	if key == "" {
		key = r.URL.Query().Get("code")
	}
	switch {
	case k == nil || key == "":
		return levelAnonymous
	case equalKey(key, k.master):
		return levelAdmin
	case anyKey(key, k.system):
		return levelSystem
	case anyKey(key, k.host) || (fn != "" && anyKey(key, k.functions[strings.ToLower(fn)])):
		return levelFunction
	}
	return levelAnonymous
}

func anyKey(key string, keys []string) bool {
	found := false
	for _, v := range keys {
		found = equalKey(key, v) || found // no early exit: time does not tell which key matched
	}
	return found
}

func equalKey(a, b string) bool {
	return b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
