package cosmos

import "container/heap"

// garbage holds the replaced versions of items that are still in the
// file, keyed there by their LSN. A newer version of the same item
// shadows each of them when the file loads (loadItems keeps the last
// version of an item in LSN order), so they need not go in the commit
// that replaces them. Deleting a replaced version at once rewrote a page
// of the file for almost every replacement: the versions a batch replaces
// are scattered over the file. Deleted once they are garbageHorizon LSNs
// old, in LSN order, they go several to a page, their neighbours having
// been replaced by then too.
//
// The one rule that keeps the file right: when an item is deleted, its
// garbage goes in the same commit as the delete (take), so that no older
// version of it is left to reappear when the file loads.
type garbage struct {
	byKey  map[string][]uint64 // LSNs by item key
	oldest lsnHeap             // the same, oldest first; may hold versions taken already
}

// garbageHorizon is how many LSNs a replaced version waits in the file.
const garbageHorizon = 4096

// add records that the version of the item key at lsn was replaced.
func (g *garbage) add(key string, lsn uint64) {
	if g.byKey == nil {
		g.byKey = map[string][]uint64{}
	}
	g.byKey[key] = append(g.byKey[key], lsn)
	heap.Push(&g.oldest, keyedLSN{lsn: lsn, key: key})
}

// take removes and returns the replaced versions of the item key.
func (g *garbage) take(key string) []uint64 {
	lsns := g.byKey[key]
	delete(g.byKey, key)
	return lsns
}

// due removes and returns the replaced versions older than lsn-garbageHorizon.
func (g *garbage) due(lsn uint64) []uint64 {
	var out []uint64
	for g.oldest.Len() > 0 && g.oldest[0].lsn+garbageHorizon < lsn {
		v := heap.Pop(&g.oldest).(keyedLSN)
		if g.remove(v) {
			out = append(out, v.lsn)
		}
	}
	return out
}

// remove drops v from byKey, reporting whether it was there (take did not
// return it already).
func (g *garbage) remove(v keyedLSN) bool {
	lsns := g.byKey[v.key]
	for i, l := range lsns {
		if l == v.lsn {
			lsns = append(lsns[:i], lsns[i+1:]...)
			if len(lsns) == 0 {
				delete(g.byKey, v.key)
			} else {
				g.byKey[v.key] = lsns
			}
			return true
		}
	}
	return false
}

type keyedLSN struct {
	lsn uint64
	key string
}

// lsnHeap is a container/heap of keyedLSN, lowest LSN first.
type lsnHeap []keyedLSN

func (h lsnHeap) Len() int           { return len(h) }
func (h lsnHeap) Less(i, j int) bool { return h[i].lsn < h[j].lsn }
func (h lsnHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *lsnHeap) Push(x any)        { *h = append(*h, x.(keyedLSN)) }

func (h *lsnHeap) Pop() any {
	old := *h
	v := old[len(old)-1]
	*h = old[:len(old)-1]
	return v
}
