package cosmos

import "container/heap"

// expiries orders a container's items that can expire by the second they
// do, so that a sweep visits the expired items and nothing else: an
// idempotency container holds a day of records, and scanning them all
// every second, under the container's lock, would stall its writes.
//
// Entries are added when an item is written and never updated: a replaced
// or deleted item leaves its entry behind, and the sweep skips an entry
// whose document is no longer the one in the container. The index is
// built for one defaultTtl; when the container's changes (a replace of its
// properties), or when stale entries outnumber the items, the sweep builds
// it again from the items. The caller holds c.mu for every method.
type expiries struct {
	builtFor int64 // the defaultTtl the entries were computed with
	missed   bool  // an item was written under another default: rebuild
	entries  expiryHeap
}

type expiry struct {
	at  int64 // Unix seconds: the item's _ts plus its time to live
	key string
	doc *document
}

type expiryHeap []expiry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = expiry{} // the backing array must not keep the document alive
	*h = old[:len(old)-1]
	return e
}

// expiresAt is when d expires under the container default def; false if
// it never does.
func expiresAt(d *document, def int64) (int64, bool) {
	if def == ttlOff {
		return 0, false
	}
	t := int64(d.ttl)
	if t == 0 {
		t = def
	}
	return d.ts + t, t > 0
}

// written notes an item just put in the container under key.
func (x *expiries) written(key string, d *document, def int64) {
	if def != x.builtFor {
		x.missed = true // the next sweep rebuilds the index for def
		return
	}
	if at, ok := expiresAt(d, def); ok {
		heap.Push(&x.entries, expiry{at: at, key: key, doc: d})
	}
}

// rebuild indexes every item of docs for the default def.
func (x *expiries) rebuild(docs map[string]*document, def int64) {
	clear(x.entries) // nor keep the documents of the old entries
	x.builtFor, x.missed, x.entries = def, false, x.entries[:0]
	for key, d := range docs {
		if at, ok := expiresAt(d, def); ok {
			x.entries = append(x.entries, expiry{at: at, key: key, doc: d})
		}
	}
	heap.Init(&x.entries)
}

// due returns the keys of up to limit items of docs expired at now, the
// longest expired first, and drops their entries and the stale ones it
// passes.
func (x *expiries) due(docs map[string]*document, def, now int64, limit int) []string {
	if x.missed || def != x.builtFor || len(x.entries) > 2*len(docs)+1024 {
		x.rebuild(docs, def)
	}
	var keys []string
	for len(keys) < limit && len(x.entries) > 0 && x.entries[0].at <= now {
		e := heap.Pop(&x.entries).(expiry)
		if docs[e.key] == e.doc {
			keys = append(keys, e.key)
		}
	}
	return keys
}
