package funchost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"
)

// Headers the host adds to every request it sends the handler.
const (
	headerInvocationID = "X-Azure-Functions-InvocationId"
	headerHostVersion  = "X-Azure-Functions-HostVersion"
	hostVersion        = "4.1037.0.0-local"
	userAgent          = "Azure-Functions-Host/" + hostVersion
)

// invoker sends envelope invocations (POST /<FunctionName>) to the handler.
type invoker struct {
	proc    *handlerProc
	client  *http.Client
	timeout time.Duration
	con     *console
}

// newHandlerClient is the client for envelope invocations. It keeps enough
// idle connections for every listener and request in flight: Go's default
// transport keeps two per host and closes the rest after each response.
func newHandlerClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{}).DialContext,
		MaxIdleConns:        maxIdleHandlerConns,
		MaxIdleConnsPerHost: maxIdleHandlerConns,
		IdleConnTimeout:     handlerConnIdle,
		DisableCompression:  true,
	}}
}

// invoke runs one invocation. A nil exception means success; Logs are
// printed here, Outputs are returned for the caller to apply.
func (iv *invoker) invoke(ctx context.Context, fn, id string, req invocationRequest) (*invocationResult, *dotnetException) {
	ctx, cancel := context.WithTimeout(ctx, iv.timeout)
	defer cancel()
	res, inner := iv.send(ctx, fn, id, req)
	if inner == nil {
		iv.printLogs(fn, res.Logs)
		return res, nil
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil, &dotnetException{
			ClassName: "Microsoft.Azure.WebJobs.Host.FunctionTimeoutException",
			Message:   fmt.Sprintf("Timeout value of %s was exceeded by function: Functions.%s", formatTimeSpan(iv.timeout), fn),
			Data:      json.RawMessage("{}"), HResult: hresultException,
			Source: "Microsoft.Azure.WebJobs.Host", WatsonBuckets: json.RawMessage("null"),
		}
	}
	return nil, invocationException(fn, inner)
}

func (iv *invoker) send(ctx context.Context, fn, id string, req invocationRequest) (*invocationResult, *dotnetException) {
	body := req.encode()
	resp, err := iv.proc.sendToHandler(ctx, iv.client, func() (*http.Request, error) {
		hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, iv.proc.baseURL()+"/"+fn, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		hreq.Header.Set("Content-Type", "application/json; charset=utf-8")
		addHostHeaders(hreq.Header, id)
		return hreq, nil
	})
	if err != nil {
		return nil, httpRequestException(err.Error())
	}
	defer resp.Body.Close()
	return readInvocationResult(resp)
}

func addHostHeaders(h http.Header, id string) {
	h.Set(headerInvocationID, id)
	h.Set(headerHostVersion, hostVersion)
	if ua := h.Get("User-Agent"); ua != "" {
		h.Set("User-Agent", ua+" "+userAgent)
	} else {
		h.Set("User-Agent", userAgent)
	}
}

// readInvocationResult applies the host's rules: a non-2xx status fails
// the invocation and discards Outputs; so does a body that isn't JSON.
func readInvocationResult(resp *http.Response) (*invocationResult, *dotnetException) {
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, httpRequestException(err.Error())
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, httpRequestException(fmt.Sprintf("Response status code does not indicate success: %d (%s).", resp.StatusCode, http.StatusText(resp.StatusCode)))
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt != "application/json" && mt != "text/json" {
		if mt == "" {
			mt = "application/octet-stream"
		}
		return nil, innerException("System.Net.Http.UnsupportedMediaTypeException", "System.Net.Http.Formatting",
			fmt.Sprintf("No MediaTypeFormatter is available to read an object of type 'HttpScriptInvocationResult' from content with media type '%s'.", mt))
	}
	var res invocationResult
	if err := json.Unmarshal(body, &res); err != nil {
		return nil, innerException("System.InvalidOperationException", "Microsoft.Azure.WebJobs.Script",
			fmt.Sprintf("Invalid HttpResponseMessage:\n%d %s\n %s", resp.StatusCode, resp.Status, body))
	}
	return &res, nil
}

func httpRequestException(msg string) *dotnetException {
	return innerException("System.Net.Http.HttpRequestException", "System.Net.Http", msg)
}

// printLogs prints the handler's Logs, one line each.
func (iv *invoker) printLogs(fn string, logs []json.RawMessage) {
	for _, l := range logs {
		var s string
		if json.Unmarshal(l, &s) != nil {
			s = string(l)
		}
		for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
			iv.con.printf("%s: %s", fn, line)
		}
	}
}
