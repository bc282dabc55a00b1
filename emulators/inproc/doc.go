// Package inproc is an HTTP transport that answers each request with an
// http.Handler in the calling process instead of sending it over a
// socket. The local stack uses it where a client and the server it talks
// to share one process: the local Functions host's azcosmos clients reach
// the Cosmos DB emulator running beside it in devstack (Transport is an
// azcore policy.Transporter and an http.RoundTripper).
//
// It saves what loopback TCP costs on both ends (net/http's client write
// and read loops, the server's request parsing and response framing, and
// the socket system calls) and keeps what a client of the server could
// tell apart. The handler sees the request net/http's server would hand
// it for the same request sent by net/http's client: the request URI
// parsed again, Host in Request.Host, header keys in canonical form, a
// fresh header map, Content-Length as sent (or -1 and chunked for a body
// of unknown length), a body that reads at most that many bytes, a
// context of its own that is cancelled when the caller's is or when the
// handler returns, and Request.TLS when the transport stands for an
// https listener. The caller gets the response net/http's client would
// return: the header snapshot taken at WriteHeader, keys canonical, Date
// added, Content-Type sniffed when the handler set none, Content-Type and
// Content-Length removed from a 304, the body framed as net/http's server
// frames it (Content-Length when the handler set it or wrote at most
// 2 KB before returning, chunked otherwise), and the server's 431 for a
// request header over MaxHeaderBytes.
//
// The handler runs on a goroutine of its own, so a caller whose context
// ends gets the context's error at once (wrapped in *url.Error, as from
// http.Client.Do) while the handler, its context cancelled, finishes on
// its own; the request body is closed and detached from the handler
// before RoundTrip returns, so a caller may rewind and resend it. The
// response body is a copy of what the handler wrote: a handler may reuse
// its buffers once Write returns. A handler that panics fails the round
// trip with an error, where net/http's server would drop the connection.
//
// Not carried over: the handler sees no Accept-Encoding the caller did
// not set (net/http's client asks for gzip and undoes it; here nothing is
// compressed), RemoteAddr is "inproc", Response.TLS is nil, there are no
// trailers, no http.Flusher, no Hijacker, and no 1xx responses.
package inproc
