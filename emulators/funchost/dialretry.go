package funchost

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

const dialAttempts = 5

// sendToHandler sends a request built by build, retrying when the handler
// refused the connection (it may have just exited and be restarting), as
// the real host's proxy retries connection failures. build is called once
// per attempt so that each attempt gets a fresh body.
func (p *handlerProc) sendToHandler(ctx context.Context, client *http.Client, build func() (*http.Request, error)) (*http.Response, error) {
	for attempt := 1; ; attempt++ {
		if err := p.waitReady(ctx); err != nil {
			return nil, err
		}
		req, err := build()
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if err == nil || !isDialError(err) || attempt == dialAttempts {
			return resp, err
		}
		if !sleep(time.Duration(attempt)*100*time.Millisecond, ctx) {
			return nil, err
		}
	}
}

func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
