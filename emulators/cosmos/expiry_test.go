package cosmos

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func expiringDocs(n int, ts int64, ttl int32) map[string]*document {
	docs := make(map[string]*document, n)
	for i := range n {
		key := fmt.Sprintf("k%06d", i)
		docs[key] = &document{id: key, ts: ts + int64(i), ttl: ttl}
	}
	return docs
}

func TestExpiriesVisitOnlyWhatIsDue(t *testing.T) {
	docs := expiringDocs(10_000, 1000, 0)
	var x expiries
	const def = 60
	keys := x.due(docs, def, 1000+60+2, 100)
	assert.Equal(t, []string{"k000000", "k000001", "k000002"}, keys, "the longest expired first, only those")
	assert.Len(t, x.entries, 10_000-3, "the live items' entries stay for later sweeps")
	assert.Empty(t, x.due(docs, def, 1000+60+2, 100), "popped entries are not handed out twice")

	keys = x.due(docs, def, 1000+60+9_999, 10)
	assert.Len(t, keys, 10, "at most limit at a time")
	assert.Equal(t, "k000003", keys[0])
}

func TestExpiriesSkipReplacedAndDeletedItems(t *testing.T) {
	docs := expiringDocs(3, 1000, 10)
	var x expiries
	x.rebuild(docs, -1)
	// k000000 is rewritten later, k000001 deleted.
	docs["k000000"] = &document{id: "k000000", ts: 2000, ttl: 10}
	x.written("k000000", docs["k000000"], -1)
	delete(docs, "k000001")
	assert.Equal(t, []string{"k000002"}, x.due(docs, -1, 1500, 100), "only the item still there as written")
	assert.Equal(t, []string{"k000000"}, x.due(docs, -1, 2010, 100), "the rewrite expires in its own time")
}

func TestExpiriesRebuildForANewDefault(t *testing.T) {
	docs := expiringDocs(2, 1000, 0)
	var x expiries
	assert.Empty(t, x.due(docs, ttlOff, 1_000_000, 100), "off: nothing expires")
	assert.Empty(t, x.due(docs, -1, 1_000_000, 100), "on with -1: only items with a ttl of their own")
	docs["own"] = &document{id: "own", ts: 1000, ttl: 5}
	x.written("own", docs["own"], 30) // written under a default the index was not built for
	assert.ElementsMatch(t, []string{"k000000", "k000001", "own"}, x.due(docs, 30, 1_000_000, 100),
		"the index is rebuilt for the new default and misses no item written meanwhile")
}

// BenchmarkSweepADayOfRecords is one sweep of a container holding 200,000
// live items and one expired: what an idempotency container asks of the
// sweeper every second.
func BenchmarkSweepADayOfRecords(b *testing.B) {
	docs := expiringDocs(200_000, 1_000_000_000, 0) // all far from expiring
	var x expiries
	x.due(docs, 86_400, 0, maxSweep) // built once, as the first sweep does
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		d := &document{id: "late", ts: int64(i), ttl: 1}
		docs["late"] = d
		x.written("late", d, 86_400)
		if keys := x.due(docs, 86_400, int64(i)+1, maxSweep); len(keys) != 1 {
			b.Fatalf("due %v", keys)
		}
	}
}
