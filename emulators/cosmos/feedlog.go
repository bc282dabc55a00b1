package cosmos

import "sort"

// changeFeed is a container's change feed: the log of every item, and one
// log per live partition key range of the routing it was indexed for, so
// that a read of one range (what each lease of the Functions host sends)
// touches only the entries of that range. A range's log holds exactly the
// live entries whose EPK the range holds, whatever the current routing: a
// range is immutable. After a split the next write indexes the new routing;
// until then the new ranges are read from the log of every item.
type changeFeed struct {
	all     feedLog
	of      *routing              // the routing byRange was built for
	byRange map[*pkRange]*feedLog // nil until the first write
}

// append adds the latest version of an item; rt is the current routing.
// The caller holds the container's lock for writing.
func (f *changeFeed) append(rt *routing, d *document) {
	f.index(rt)
	f.all.append(d)
	f.byRange[rt.owner(d.epk)].append(d)
}

// kill marks the entry of a superseded or deleted version dead.
func (f *changeFeed) kill(d *document) {
	f.all.kill(d.lsn)
	if f.of != nil {
		f.byRange[f.of.owner(d.epk)].kill(d.lsn)
	}
}

// index builds the logs of rt's ranges from the log of every item, once
// per routing.
func (f *changeFeed) index(rt *routing) {
	if f.of == rt {
		return
	}
	f.of, f.byRange = rt, make(map[*pkRange]*feedLog, len(rt.Live))
	for _, p := range rt.Live {
		f.byRange[p] = &feedLog{}
	}
	for _, e := range f.all.entries {
		if e.doc != nil {
			f.byRange[rt.owner(e.doc.epk)].append(e.doc)
		}
	}
}

// entries returns, in LSN order, the entries that may hold the items of
// rng (nil: every range): its own log when it has one.
func (f *changeFeed) entries(rng *pkRange) []feedEntry {
	if l, ok := f.byRange[rng]; ok && rng != nil {
		return l.entries
	}
	return f.all.entries
}

// read serves one page of the feed.
func (f *changeFeed) read(q feedQuery) feedPage {
	l, ok := f.byRange[q.scope.rng]
	if !ok || q.scope.rng == nil {
		return f.all.read(q)
	}
	q.scope.rng = nil // every entry of its log is in the range
	return l.read(q)
}

// feedLog lists the latest version of every live item (of a container or
// of one range) in LSN order. When an item changes, its old entry is
// marked dead and a new one is appended; dead entries are compacted away
// once they outnumber live ones.
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
