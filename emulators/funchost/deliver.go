package funchost

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// deliver invokes the function with one page of documents, retrying as
// the function's retry policy says. It returns true when the checkpoint
// may advance: after a success, after a failure with no retry policy (the
// batch is lost, as on Azure), or after the last retry. It returns false
// when ctx ended, the lease is no longer safely ours, or the worker must
// yield (the host is stopping or another instance asked for the lease)
// while waiting to retry; the batch is then not checkpointed.
func (l *listener) deliver(w worker, hl *heldLease, docs [][]byte) bool {
	ctx := w.lease
	data := map[string]json.RawMessage{l.t.Name: documentsValue(docs)}
	p := l.fn.Retry
	var rc *retryContext
	var bo *backoff
	if p != nil {
		rc, bo = &retryContext{MaxRetryCount: p.MaxRetryCount}, newBackoff(p)
	}
	for attempt := 0; ; attempt++ {
		if !hl.valid() {
			return false
		}
		exc := l.invokeOnce(ctx, data, rc, len(docs))
		switch {
		case ctx.Err() != nil:
			return false
		case exc == nil, p == nil:
			return true
		case p.MaxRetryCount != -1 && attempt == p.MaxRetryCount:
			l.con.printf("%s: all %d retries failed; the checkpoint moves past these %d documents", l.fn.Name, p.MaxRetryCount, len(docs))
			return true
		}
		rc.RetryCount, rc.Exception = attempt+1, exc
		d := bo.next()
		l.con.printf("%s: retry %d of %s in %s", l.fn.Name, attempt+1, retryLimit(p), d)
		if !sleep(d, w.stop, ctx) {
			return false
		}
	}
}

func retryLimit(p *retryPolicy) string {
	if p.MaxRetryCount == -1 {
		return "unlimited"
	}
	return fmt.Sprint(p.MaxRetryCount)
}

// invokeOnce sends one invocation and prints its line.
func (l *listener) invokeOnce(ctx context.Context, data map[string]json.RawMessage, rc *retryContext, n int) *dotnetException {
	meta := map[string]json.RawMessage{"sys": newSysMetadata(l.fn.Name)}
	if rc != nil {
		meta["RetryContext"] = mustJSON(rc)
	}
	id := uuid.NewString()
	start := time.Now()
	_, exc := l.inv.invoke(ctx, l.fn.Name, id, invocationRequest{Data: data, Metadata: meta})
	outcome := fmt.Sprintf("Succeeded, Documents=%d", n)
	if exc != nil {
		outcome = fmt.Sprintf("Failed, Documents=%d, Error=%q", n, exceptionText(exc))
	}
	l.con.invoked(l.fn.Name, id, time.Since(start), outcome)
	return exc
}

// documentsValue encodes the documents the way the real host does: the
// trigger value is the JSON array as a string, serialised once more into
// Data, so Data.documents is a JSON string holding a JSON string. The
// documents are the server's JSON (a Cosmos DB response), so they are
// compacted and escaped in one pass, with no validating scanner.
func documentsValue(docs [][]byte) json.RawMessage {
	size := 8
	for _, d := range docs {
		size += twiceEscapedLen(d) + 1
	}
	b := append(make([]byte, 0, size), `"\"[`...)
	for i, d := range docs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendTwiceEscaped(b, d)
	}
	return append(b, `]\""`...)
}
