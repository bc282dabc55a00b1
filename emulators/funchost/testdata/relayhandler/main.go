// Command relayhandler is the custom handler the funchost tests run: it
// answers GET /, relays every other request to $RELAY_URL (the test's
// server) with X-Handler-Pid added, and has these test hooks reachable
// through a catch-all HTTP function: .../__exit exits with status 3,
// .../__env?name=X returns the environment variable X, .../__pid the pid,
// .../__conn reads the body and returns the host's end of the connection
// (relayed requests carry it as X-Handler-Conn),
// .../__early reads 64 KiB of the body, answers 413 and closes the
// connection at once (what a handler with a body limit does to a big upload).
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
)

func main() {
	port := os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT")
	fmt.Printf("relay handler listening on port %s\n", port)
	err := http.ListenAndServe("127.0.0.1:"+port, http.HandlerFunc(serve))
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/" && r.Method == http.MethodGet:
		io.WriteString(w, "ok")
	case strings.HasSuffix(r.URL.Path, "/__exit"):
		os.Exit(3)
	case strings.HasSuffix(r.URL.Path, "/__env"):
		io.WriteString(w, os.Getenv(r.URL.Query().Get("name")))
	case strings.HasSuffix(r.URL.Path, "/__conn"):
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, r.RemoteAddr)
	case strings.HasSuffix(r.URL.Path, "/__pid"):
		io.WriteString(w, strconv.Itoa(os.Getpid()))
	case strings.HasSuffix(r.URL.Path, "/__early"):
		early(w, r)
	default:
		relay(w, r)
	}
}

func relay(w http.ResponseWriter, r *http.Request) {
	out, err := http.NewRequestWithContext(r.Context(), r.Method, os.Getenv("RELAY_URL")+r.URL.RequestURI(), r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	out.ContentLength = r.ContentLength
	out.Header = r.Header.Clone()
	out.Header.Set("X-Handler-Pid", strconv.Itoa(os.Getpid()))
	out.Header.Set("X-Handler-Conn", r.RemoteAddr)
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

func early(w http.ResponseWriter, r *http.Request) {
	io.CopyN(io.Discard, r.Body, 64<<10)
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	body := `{"title":"Request Entity Too Large","status":413}`
	fmt.Fprintf(buf, "HTTP/1.1 413 Request Entity Too Large\r\nContent-Type: application/problem+json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
	buf.Flush()
	conn.Close()
}
