package inproc

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// chunkingThreshold is net/http's server's response buffer: a handler
// that has written no more when it returns gets a Content-Length, one
// that writes more gets a chunked body.
const chunkingThreshold = 2048

// responseWriter records the handler's answer.
type responseWriter struct {
	head     bool        // a HEAD request: the body is not sent
	live     http.Header // the handler's header map
	header   http.Header // its snapshot at WriteHeader
	status   int
	declared int64 // the Content-Length the handler set, or -1
	written  int64
	body     []byte
}

func newResponseWriter(r *http.Request) *responseWriter {
	return &responseWriter{head: r.Method == http.MethodHead, live: http.Header{}, declared: -1}
}

func (w *responseWriter) Header() http.Header { return w.live }

func (w *responseWriter) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code)) // as net/http's server
	}
	if w.status != 0 || (code < 200 && code != http.StatusSwitchingProtocols) {
		return // superfluous, or informational (the client consumes those)
	}
	w.status = code
	w.header = canonical(w.live, "")
	if v := w.header.Get("Content-Length"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			w.declared = n
		} else {
			delete(w.header, "Content-Length") // net/http's server drops it
		}
	}
}

// Write copies p: the handler may reuse it once Write returns.
func (w *responseWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if w.declared >= 0 && w.written+int64(len(p)) > w.declared {
		return 0, http.ErrContentLength
	}
	w.written += int64(len(p)) // a HEAD's too: its Content-Type is sniffed from it
	if w.body == nil {
		w.body = make([]byte, 0, max(int64(len(p)), w.declared))
	}
	w.body = append(w.body, p...)
	return len(p), nil
}

// finish is net/http's server's end of a handler: a status if none.
func (w *responseWriter) finish() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
}

// response is what net/http's client returns for the recorded answer.
func (w *responseWriter) response(req *http.Request) *http.Response {
	h := w.header
	if _, ok := h["Date"]; !ok {
		h["Date"] = []string{time.Now().UTC().Format(http.TimeFormat)}
	}
	text := http.StatusText(w.status)
	if text == "" {
		text = "status code " + strconv.Itoa(w.status)
	}
	resp := &http.Response{Status: strconv.Itoa(w.status) + " " + text, StatusCode: w.status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: h, Request: req, Body: http.NoBody}
	switch {
	case w.status == http.StatusNotModified:
		delete(h, "Content-Type") // no representation metadata (RFC 9110 15.4.5)
		delete(h, "Content-Length")
		delete(h, "Transfer-Encoding")
	case !bodyAllowed(w.status):
		delete(h, "Transfer-Encoding")
	default:
		w.frame(resp, req)
	}
	return resp
}

// frame sets the body, its length and the headers framing it.
func (w *responseWriter) frame(resp *http.Response, req *http.Request) {
	h := resp.Header
	if _, ok := h["Content-Type"]; !ok && len(w.body) > 0 {
		h["Content-Type"] = []string{http.DetectContentType(w.body)}
	}
	switch {
	case w.declared >= 0:
		resp.ContentLength = w.declared
	case w.written <= chunkingThreshold && (!w.head || w.written > 0):
		resp.ContentLength = w.written
		h["Content-Length"] = []string{strconv.FormatInt(w.written, 10)}
	case w.head:
		resp.ContentLength = -1
	default:
		resp.ContentLength, resp.TransferEncoding = -1, []string{"chunked"}
	}
	if w.head || resp.ContentLength == 0 {
		return
	}
	resp.Body = &responseBody{ctx: req.Context(), b: w.body, short: w.declared > w.written}
}

// bodyAllowed reports whether a response of status may have a body.
func bodyAllowed(status int) bool {
	return !(status >= 100 && status <= 199) && status != http.StatusNoContent && status != http.StatusNotModified
}
