package cosmos

import (
	"fmt"
	"math/big"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// pkRange is one partition key range: a physical partition owning the
// EPKs in [min, max). Ranges are never modified; a split retires one and
// adds its two children.
type pkRange struct {
	ID      string   `json:"id"`
	Min     string   `json:"minInclusive"`
	Max     string   `json:"maxExclusive"`
	Parents []string `json:"parents"`
	Since   uint64   `json:"since"` // the routing version that created it
}

func (p *pkRange) ridPrefix() int {
	n, _ := strconv.Atoi(p.ID)
	return n
}

// contains reports whether the EPK falls in the range.
func (p *pkRange) contains(epk string) bool {
	return compareEPK(p.Min, epk) <= 0 && (p.Max == epkMax || compareEPK(epk, p.Max) < 0)
}

// routing is a container's set of ranges at one version. It is immutable:
// a split publishes a new routing.
type routing struct {
	Version uint64              `json:"version"` // bumped by every split; the pkranges etag
	NextID  int                 `json:"nextId"`
	Live    []*pkRange          `json:"live"` // sorted by Min, tiling "" to "FF"
	Gone    map[string][]string `json:"gone"` // retired range id → its children's ids
}

// newRouting divides the EPK space of a definition into n equal ranges,
// with ids "0" … "n-1".
func newRouting(d pkDef, n int) *routing {
	rt := &routing{Version: 1, NextID: n, Gone: map[string][]string{}}
	bounds := equalBounds(d, n)
	for i := range n {
		rt.Live = append(rt.Live, &pkRange{ID: strconv.Itoa(i), Min: bounds[i], Max: bounds[i+1], Parents: []string{}, Since: 1})
	}
	return rt
}

// spaceOf is the number of distinct leading EPK values of a definition:
// V2 hashes have their top two bits cleared (2^126 values of 32 hex
// digits); V1 hashes are 32-bit numbers after 24 zero digits.
func spaceOf(d pkDef) *big.Int {
	if d.version == 2 {
		return new(big.Int).Lsh(big.NewInt(1), 126)
	}
	return new(big.Int).Lsh(big.NewInt(1), 32)
}

func equalBounds(d pkDef, n int) []string {
	space := spaceOf(d)
	out := make([]string, n+1)
	out[n] = epkMax
	for i := 1; i < n; i++ {
		v := new(big.Int).Mul(space, big.NewInt(int64(i)))
		out[i] = formatBound(v.Div(v, big.NewInt(int64(n))))
	}
	return out
}

// formatBound writes a boundary as 32 upper-case hex digits.
func formatBound(v *big.Int) string {
	return fmt.Sprintf("%032X", v)
}

// parseBound reads a boundary; "" is the start and "FF" the end of space.
func parseBound(d pkDef, s string) *big.Int {
	switch s {
	case "":
		return new(big.Int)
	case epkMax:
		return spaceOf(d)
	}
	if len(s) > 32 {
		s = s[:32]
	}
	s += strings.Repeat("0", 32-len(s))
	v, _ := new(big.Int).SetString(s, 16)
	return v
}

// owner returns the live range that holds an EPK.
func (rt *routing) owner(epk string) *pkRange {
	i := sort.Search(len(rt.Live), func(i int) bool { return compareEPK(rt.Live[i].Min, epk) > 0 }) - 1
	return rt.Live[max(i, 0)]
}

// lookup returns the live range with the given id, or a 410 when the id
// was retired by a split, or a 404 when it never existed.
func (rt *routing) lookup(id string) (*pkRange, error) {
	for _, p := range rt.Live {
		if p.ID == id {
			return p, nil
		}
	}
	if _, ok := rt.Gone[id]; ok {
		return nil, errRangeGone(id)
	}
	return nil, newError(http.StatusNotFound, "Partition key range %s does not exist.", id)
}

// errRangeGone is Cosmos DB's PartitionKeyRangeGone: 410, substatus 1002.
func errRangeGone(id string) *apiError {
	e := newError(http.StatusGone, "The partition key range %s is gone: it was split. Refresh the partition key ranges.", id)
	e.substatus = subStatusRangeGone
	return e
}

const subStatusRangeGone = "1002"

// split returns the routing in which range id is replaced by two children
// dividing it at its midpoint.
func (rt *routing) split(d pkDef, id string) (*routing, [2]*pkRange, error) {
	var kids [2]*pkRange
	parent, err := rt.lookup(id)
	if err != nil {
		return nil, kids, err
	}
	lo, hi := parseBound(d, parent.Min), parseBound(d, parent.Max)
	if new(big.Int).Sub(hi, lo).Cmp(big.NewInt(2)) < 0 {
		return nil, kids, errBadRequest("Partition key range %s is too narrow to split.", id)
	}
	mid := formatBound(new(big.Int).Rsh(new(big.Int).Add(lo, hi), 1))
	next := rt.clone()
	next.Version++
	parents := append(append([]string{}, parent.Parents...), parent.ID)
	for i, bounds := range [2][2]string{{parent.Min, mid}, {mid, parent.Max}} {
		kids[i] = &pkRange{ID: strconv.Itoa(next.NextID), Min: bounds[0], Max: bounds[1], Parents: parents, Since: next.Version}
		next.NextID++
	}
	next.Gone[parent.ID] = []string{kids[0].ID, kids[1].ID}
	next.Live = replaceRange(next.Live, parent, kids)
	return next, kids, nil
}

func (rt *routing) clone() *routing {
	next := *rt
	next.Live = append([]*pkRange(nil), rt.Live...)
	next.Gone = make(map[string][]string, len(rt.Gone)+1)
	for k, v := range rt.Gone {
		next.Gone[k] = v
	}
	return &next
}

func replaceRange(live []*pkRange, old *pkRange, kids [2]*pkRange) []*pkRange {
	out := make([]*pkRange, 0, len(live)+1)
	for _, p := range live {
		if p == old {
			out = append(out, kids[0], kids[1])
			continue
		}
		out = append(out, p)
	}
	return out
}

// widest returns the live range covering the most of the EPK space, the
// one a throughput increase splits first.
func (rt *routing) widest(d pkDef) *pkRange {
	var best *pkRange
	var bestWidth *big.Int
	for _, p := range rt.Live {
		w := new(big.Int).Sub(parseBound(d, p.Max), parseBound(d, p.Min))
		if best == nil || w.Cmp(bestWidth) > 0 {
			best, bestWidth = p, w
		}
	}
	return best
}

// since returns the live ranges created after routing version v.
func (rt *routing) since(v uint64) []*pkRange {
	var out []*pkRange
	for _, p := range rt.Live {
		if p.Since > v {
			out = append(out, p)
		}
	}
	return out
}
