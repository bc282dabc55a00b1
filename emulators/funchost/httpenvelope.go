package funchost

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// invokeEnvelope runs an httpTrigger function that is not forwarded: the
// request goes as Data.<req>, the http output binding comes back in
// Outputs (or ReturnValue for "$return"). It returns 0 on failure.
func (s *httpFront) invokeEnvelope(w http.ResponseWriter, r *http.Request, f *function, params map[string]string, id string) int {
	reqData, err := requestData(r, params)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		writeTooLarge(w, tooLarge.Limit)
		return 0
	}
	if err != nil {
		writeProblem(w, http.StatusBadRequest, "the request body could not be read")
		return 0
	}
	env := invocationRequest{
		Data:     map[string]json.RawMessage{f.HTTP.Name: mustJSON(reqData)},
		Metadata: map[string]json.RawMessage{"Query": mustJSON(reqData.Query), "Headers": mustJSON(reqData.Headers), "sys": newSysMetadata(f.Name)},
	}
	for k, v := range params {
		env.Metadata[k] = mustJSON(v)
	}
	res, exc := s.h.inv.invoke(r.Context(), f.Name, id, env)
	if exc != nil {
		s.h.con.printf("Executed 'Functions.%s' failed: %s", f.Name, exceptionText(exc))
		writeProblem(w, http.StatusInternalServerError, "the function failed")
		return 0
	}
	return writeHTTPOutput(w, httpOutputValue(f, res))
}

func requestData(r *http.Request, params map[string]string) (httpRequestData, error) {
	d := httpRequestData{
		URL:        "http://" + r.Host + r.URL.RequestURI(),
		Method:     r.Method,
		Query:      map[string]string{},
		Headers:    map[string][]string{"Host": {r.Host}},
		Params:     params,
		Identities: []json.RawMessage{},
	}
	for k, vs := range r.URL.Query() {
		d.Query[k] = strings.Join(vs, ",")
	}
	for k, vs := range r.Header {
		d.Headers[k] = vs
	}
	body, err := io.ReadAll(r.Body)
	if err != nil || len(body) == 0 {
		return d, err
	}
	text := string(body)
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/octet-stream" || strings.HasPrefix(mt, "multipart/") {
		text = base64.StdEncoding.EncodeToString(body)
	}
	d.Body = &text
	return d, nil
}

// httpOutputValue picks the http output binding's value from the reply.
func httpOutputValue(f *function, res *invocationResult) json.RawMessage {
	for _, name := range f.HTTPOut {
		if name == "$return" {
			return res.ReturnValue
		}
		if v, ok := res.Outputs[name]; ok {
			return v
		}
		for k, v := range res.Outputs {
			if strings.EqualFold(k, name) {
				return v
			}
		}
	}
	return nil
}

// writeHTTPOutput writes {statusCode, body, headers} as the HTTP response.
func writeHTTPOutput(w http.ResponseWriter, raw json.RawMessage) int {
	if len(raw) == 0 || string(raw) == "null" {
		w.WriteHeader(http.StatusNoContent)
		return http.StatusNoContent
	}
	var out httpResponseData
	if err := decodeFold(raw, &out); err != nil {
		writeProblem(w, http.StatusInternalServerError, "the function's http output is not a response")
		return 0
	}
	status := statusOf(out.StatusCode, out.Status)
	body, contentType := bodyOf(out.Body)
	for k, v := range out.Headers {
		w.Header().Set(k, v)
	}
	if w.Header().Get("Content-Type") == "" && len(body) > 0 {
		w.Header().Set("Content-Type", contentType)
	}
	w.WriteHeader(status)
	w.Write(body) //nolint:errcheck // the client went away
	return status
}

// decodeFold decodes JSON matching field names case-insensitively (the
// default for encoding/json too, made explicit here for readers).
func decodeFold(raw json.RawMessage, v any) error {
	return json.NewDecoder(bytes.NewReader(raw)).Decode(v)
}

func statusOf(codes ...json.RawMessage) int {
	for _, c := range codes {
		var n int
		if json.Unmarshal(c, &n) == nil && n > 0 {
			return n
		}
		var s string
		if json.Unmarshal(c, &s) == nil {
			if n, err := strconv.Atoi(s); err == nil && n > 0 {
				return n
			}
		}
	}
	return http.StatusOK
}

func bodyOf(raw json.RawMessage) ([]byte, string) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []byte(s), "text/plain; charset=utf-8"
	}
	return raw, "application/json; charset=utf-8"
}

// exceptionText is the innermost message of a host exception.
func exceptionText(e *dotnetException) string {
	for e.InnerException != nil {
		e = e.InnerException
	}
	return e.Message
}
