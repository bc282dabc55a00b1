package funchost

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countedWriter keeps what is written to it and counts the writes. Like a
// connection it is no io.ByteWriter, so Request.Write buffers its writes.
type countedWriter struct {
	sent   bytes.Buffer
	writes int
}

func (w *countedWriter) Write(p []byte) (int, error) { w.writes++; return w.sent.Write(p) }

// forwarded writes the request the handler gets for a caller's POST of
// body (declared at its length) as dialHandler writes it to the
// connection, and reports the writes it took and the body as sent.
func forwarded(t *testing.T, body string) (writes int, sent string) {
	t.Helper()
	in, err := http.NewRequest(http.MethodPost, "http://host/api/orders", io.NopCloser(strings.NewReader(body)))
	require.NoError(t, err)
	in.ContentLength = int64(len(body))
	upload, err := (&clientBody{r: in.Body}).upload(in.ContentLength)
	require.NoError(t, err)
	out, err := outgoingRequest(context.Background(), "http://127.0.0.1:1", in, upload, "id")
	require.NoError(t, err)
	var w countedWriter
	require.NoError(t, out.Write(&w))
	got, err := http.ReadRequest(bufio.NewReader(&w.sent))
	require.NoError(t, err)
	b, err := io.ReadAll(got.Body)
	require.NoError(t, err)
	return w.writes, string(b)
}

// TestSmallBodyIsForwardedInOneWrite: a checkout-sized body goes to the
// handler with its headers in one write; a large one is streamed after
// them, as it arrives.
func TestSmallBodyIsForwardedInOneWrite(t *testing.T) {
	small := `{"customerId":"c1","lines":[{"sku":"SKU-1","quantity":1}]}`
	writes, sent := forwarded(t, small)
	assert.Equal(t, 1, writes)
	assert.Equal(t, small, sent)

	large := strings.Repeat("x", smallBody+1)
	writes, sent = forwarded(t, large)
	assert.Greater(t, writes, 1, "the headers go first, the body streams after them")
	assert.Equal(t, large, sent)
}

// TestShortBodyIsAClientBodyError: a caller that declares more than it
// sends gets the host's answer for a body that did not arrive.
func TestShortBodyIsAClientBodyError(t *testing.T) {
	_, err := (&clientBody{r: strings.NewReader("12345")}).upload(10)
	require.Error(t, err)
	assert.ErrorIs(t, clientBodyError(err), errClientBody)
}
