package cosmos

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// feedContainer is a container of n ranges whose feed holds versions of
// items ord_0 … ord_{items-1}, the even ones written twice (their first
// version dead), the multiples of 5 deleted.
func feedContainer(t *testing.T, n, items int) *container {
	t.Helper()
	d := pkDef{version: 2, paths: [][]string{{"pk"}}}
	c := &container{pk: d, docs: map[string]*document{}}
	c.routes.Store(newRouting(d, n))
	write := func(i int) {
		pk := "ord_" + strconv.Itoa(i)
		c.lsn++
		doc := &document{lsn: c.lsn, pk: canonicalKey([]any{pk}), epk: d.effectivePK([]any{pk})}
		if old, ok := c.docs[pk]; ok {
			c.feed.kill(old)
		}
		c.docs[pk] = doc
		c.feed.append(c.routing(), doc)
	}
	for i := range items {
		write(i)
	}
	for i := 0; i < items; i += 2 {
		write(i)
	}
	for i := 0; i < items; i += 5 {
		c.feed.kill(c.docs["ord_"+strconv.Itoa(i)])
		delete(c.docs, "ord_"+strconv.Itoa(i))
	}
	c.durable.moveTo(c.lsn)
	return c
}

// pagesOf reads a range's feed from the beginning in pages of 7.
func pagesOf(t *testing.T, c *container, rng *pkRange) (lsns []uint64) {
	t.Helper()
	q := feedQuery{scope: scope{rng: rng}, maxItems: 7}
	for {
		page, err := c.readFeed(q)
		require.NoError(t, err)
		for _, d := range page.docs {
			lsns = append(lsns, d.lsn)
		}
		if page.next == q.after {
			return lsns
		}
		q.after = page.next
	}
}

// scanned is what a read of rng must serve: the live entries of the log of
// every item whose EPK rng holds.
func scanned(c *container, rng *pkRange) (lsns []uint64) {
	for _, e := range c.feed.all.entries {
		if e.doc != nil && rng.contains(e.doc.epk) {
			lsns = append(lsns, e.doc.lsn)
		}
	}
	return lsns
}

func liveLSNs(entries []feedEntry) (lsns []uint64) {
	for _, e := range entries {
		if e.doc != nil {
			lsns = append(lsns, e.lsn)
		}
	}
	return lsns
}

func TestFeedOfARangeIsItsItemsBeforeAndAfterASplit(t *testing.T) {
	c := feedContainer(t, 4, 300)
	total := 0
	for _, p := range c.routing().Live {
		got := pagesOf(t, c, p)
		require.NotEmpty(t, got)
		assert.Equal(t, scanned(c, p), got, "range %s", p.ID)
		assert.Equal(t, got, liveLSNs(c.feed.entries(p)), "range %s reads only its own log", p.ID)
		total += len(got)
	}
	assert.Equal(t, len(c.docs), total)

	next, kids, err := c.routing().split(c.pk, "1")
	require.NoError(t, err)
	c.routes.Store(next)
	for _, k := range kids { // not indexed yet: served from the log of every item
		assert.Equal(t, scanned(c, k), pagesOf(t, c, k), "range %s before a write", k.ID)
	}
	c.lsn++
	moved := &document{lsn: c.lsn, pk: c.docs["ord_1"].pk, epk: c.docs["ord_1"].epk}
	c.feed.kill(c.docs["ord_1"])
	c.docs["ord_1"] = moved
	c.feed.append(c.routing(), moved)
	c.durable.moveTo(c.lsn)
	for _, p := range c.routing().Live {
		assert.Equal(t, scanned(c, p), pagesOf(t, c, p), "range %s after a write", p.ID)
		assert.Equal(t, scanned(c, p), liveLSNs(c.feed.entries(p)), "range %s is indexed", p.ID)
	}
}

func TestFeedOfARangeCompactsItsDeadEntries(t *testing.T) {
	c := feedContainer(t, 2, 5000)
	for _, p := range c.routing().Live {
		l := c.feed.byRange[p]
		assert.LessOrEqual(t, l.dead, max(1024, len(l.entries)/2), "range %s", p.ID)
		assert.Equal(t, scanned(c, p), pagesOf(t, c, p), "range %s", p.ID)
	}
}
