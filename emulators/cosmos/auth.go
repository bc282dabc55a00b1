package cosmos

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// authenticator verifies master-key signatures: HMAC-SHA256 over
// "verb\nresourceType\nresourceLink\ndate\n\n" with the account key.
type authenticator struct {
	key []byte

	mu     sync.Mutex
	signed map[string]string // payload → signature, for recent payloads
}

// maxSigned bounds the signatures kept. An SDK signs with the date to the
// second, so the requests of one second on one resource share a payload:
// most requests find their signature here instead of computing an HMAC.
const maxSigned = 4096

func newAuthenticator(key string) (*authenticator, error) {
	b, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		return nil, err
	}
	return &authenticator{key: b, signed: map[string]string{}}, nil
}

// expected is the signature of payload, from the recent ones or computed.
func (a *authenticator) expected(payload []byte) string {
	a.mu.Lock()
	sig, ok := a.signed[string(payload)]
	a.mu.Unlock()
	if ok {
		return sig
	}
	sig = a.sign(string(payload))
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.signed) >= maxSigned {
		clear(a.signed)
	}
	a.signed[string(payload)] = sig
	return sig
}

// appendLower appends strings.ToLower(s), without allocating for ASCII.
func appendLower(b []byte, s string) []byte {
	start := len(b)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x80:
			return append(b[:start], strings.ToLower(s)...)
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

func (a *authenticator) verify(r *http.Request, rt route) error {
	token := header(r, "Authorization")
	if token == "" {
		return newError(http.StatusUnauthorized, "Required Header authorization is missing. Ensure a valid Authorization token is passed.")
	}
	sig, err := signatureOf(token)
	if err != nil {
		return err
	}
	date := header(r, hdrDate)
	if date == "" {
		date = header(r, "Date")
	}
	var buf [256]byte
	payload := appendLower(buf[:0], r.Method)
	payload = appendLower(append(payload, '\n'), rt.resourceType)
	payload = append(append(payload, '\n'), rt.resourceLink...)
	payload = appendLower(append(payload, '\n'), date)
	payload = append(payload, "\n\n"...)
	if !hmac.Equal([]byte(sig), []byte(a.expected(payload))) {
		return newError(http.StatusUnauthorized, "The input authorization token can't serve the request. The wrong key is being used or the expected payload is not built as per the protocol. Server used the following payload to sign: '%s'", strings.ReplaceAll(string(payload), "\n", "\\n"))
	}
	return nil
}

// signatureOf extracts sig from "type=master&ver=1.0&sig=...", URL-escaped
// as a whole. It splits on '&' itself: url.ParseQuery would turn the
// signature's '+' into spaces.
func signatureOf(header string) (string, error) {
	decoded, err := url.QueryUnescape(header)
	if err != nil {
		decoded = header
	}
	var typ, sig string
	for _, part := range strings.Split(decoded, "&") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "type":
			typ = v
		case "sig":
			sig = v
		}
	}
	if typ != "master" || sig == "" {
		return "", newError(http.StatusUnauthorized, "The authorization token is not a master key token.")
	}
	return sig, nil
}

// sign returns the base64 HMAC-SHA256 of payload under the account key.
func (a *authenticator) sign(payload string) string {
	mac := hmac.New(sha256.New, a.key)
	mac.Write([]byte(payload))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
