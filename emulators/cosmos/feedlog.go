package cosmos

import "sort"

// feedLog lists the latest version of every live item in LSN order. When an
// item changes, its old entry is marked dead and a new one is appended; dead
// entries are compacted away once they outnumber live ones.
type feedLog struct {
	entries []feedEntry
	dead    int
}

type feedEntry struct {
	lsn uint64
	doc *document // nil once superseded or deleted
}

func (f *feedLog) append(d *document) {
	f.entries = append(f.entries, feedEntry{lsn: d.lsn, doc: d})
}

// kill marks the entry of the given LSN dead.
func (f *feedLog) kill(lsn uint64) {
	i := f.indexAfter(lsn - 1)
	if i < len(f.entries) && f.entries[i].lsn == lsn && f.entries[i].doc != nil {
		f.entries[i].doc = nil
		f.dead++
	}
	if f.dead > 1024 && f.dead > len(f.entries)/2 {
		f.compact()
	}
}

func (f *feedLog) compact() {
	live := make([]feedEntry, 0, len(f.entries)-f.dead)
	for _, e := range f.entries {
		if e.doc != nil {
			live = append(live, e)
		}
	}
	f.entries, f.dead = live, 0
}

// indexAfter returns the index of the first entry with an LSN above lsn.
func (f *feedLog) indexAfter(lsn uint64) int {
	return sort.Search(len(f.entries), func(i int) bool { return f.entries[i].lsn > lsn })
}

// feedPage is one read of the change feed.
type feedPage struct {
	docs []*document
	next uint64 // continuation: every change up to this LSN has been read
}

// feedQuery selects the changes a change feed request asks for.
type feedQuery struct {
	after    uint64 // continuation; 0 = from the beginning
	upTo     uint64 // highest LSN that may be served (the durable LSN)
	sinceNs  int64  // If-Modified-Since, 0 = none
	scope    scope  // the partition key and the range read, zero = all
	maxItems int
	fromNow  bool // If-None-Match: * — only changes after this request
}

func (f *feedLog) read(q feedQuery) feedPage {
	page := feedPage{next: max(q.after, q.upTo)}
	for i := f.indexAfter(q.after); i < len(f.entries); i++ {
		e := f.entries[i]
		if e.lsn > q.upTo {
			break
		}
		if !q.matches(e.doc) {
			continue
		}
		page.docs = append(page.docs, e.doc)
		if len(page.docs) == q.maxItems {
			page.next = e.lsn
			break
		}
	}
	return page
}

func (q feedQuery) matches(d *document) bool {
	if d == nil || d.atNs < q.sinceNs {
		return false
	}
	return q.scope.holds(d)
}
