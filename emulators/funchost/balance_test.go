package funchost

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
)

// leasesOf builds leases "0".."n-1" with the given owners ("" = free,
// "x!" = expired lease of x).
func leasesOf(now time.Time, owners ...string) []listedLease {
	out := make([]listedLease, len(owners))
	for i, o := range owners {
		d := leaseDoc{ID: fmt.Sprint(i), LeaseToken: fmt.Sprint(i), Owner: o, ExpiresAt: now.Add(time.Minute)}
		if n := len(o); n > 0 && o[n-1] == '!' {
			d.Owner, d.ExpiresAt = o[:n-1], now.Add(-time.Second)
		}
		out[i] = listedLease{leaseDoc: d}
	}
	return out
}

func leaseIDs(ls []listedLease) []string {
	out := []string{}
	for _, l := range ls {
		out = append(out, l.ID)
	}
	sort.Strings(out)
	return out
}

func TestPlanBalanceFollowsEqualPartitionsStrategy(t *testing.T) {
	now := time.Now()
	running := func(string) bool { return true } // our own leases all have workers
	cases := []struct {
		name   string
		owners []string
		take   []string
		ask    string // lease id, "" = none
		target int
	}{
		{"alone takes every free lease", []string{"", "", "", ""}, []string{"0", "1", "2", "3"}, "", 4},
		{"expired leases count as free", []string{"a!", "a!", "me", "me"}, []string{"0", "1"}, "", 4},
		{"takes free leases up to its share", []string{"a", "a", "", ""}, []string{"2", "3"}, "", 2},
		{"second instance asks the one holding everything", []string{"a", "a", "a", "a"}, []string{}, "0", 2},
		{"free leases before asking", []string{"a", "a", "a", ""}, []string{"3"}, "", 2},
		{"no ask when the other holds only its share", []string{"a", "a", "me", "b"}, []string{}, "", 2},
		{"asks when short by several and the other is at target", []string{"a", "a", "b", "b"}, []string{}, "0", 2},
		{"at its share: nothing to do", []string{"me", "me", "a", "b"}, []string{}, "", 2},
		{"one lease, two instances: never steals", []string{"a"}, []string{}, "", 1},
		{"a lease asked for counts as ours", []string{"a", "a", "a", "a"}, []string{}, "", 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			all := leasesOf(now, tc.owners...)
			if tc.name == "a lease asked for counts as ours" {
				all[0].RequestedBy, all[1].RequestedBy = "me", "me"
			}
			p := planBalance(all, "me", running, now)
			assert.Equal(t, tc.take, leaseIDs(p.take), "take")
			assert.Equal(t, tc.target, p.target, "target")
			got := ""
			if p.ask != nil {
				got = p.ask.ID
			}
			assert.Equal(t, tc.ask, got, "ask")
		})
	}
}

func TestPlanBalanceTakesLeasesHandedOverButNotRunning(t *testing.T) {
	now := time.Now()
	all := leasesOf(now, "me", "me", "a")
	p := planBalance(all, "me", func(id string) bool { return id == "0" }, now)
	assert.Equal(t, []string{"1"}, leaseIDs(p.take))
	assert.Nil(t, p.ask)
}

func TestBalancingConvergesToEqualShares(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct{ leases, workers, most, least int }{{4, 3, 2, 1}, {16, 3, 6, 5}, {5, 2, 3, 2}, {2, 3, 1, 0}} {
		t.Run(fmt.Sprintf("%d leases %d instances", tc.leases, tc.workers), func(t *testing.T) {
			all := leasesOf(now, make([]string, tc.leases)...)
			for i := range all {
				all[i].Owner = "w0" // one instance started first and took everything
			}
			for round := 0; round < 50; round++ {
				for w := 0; w < tc.workers; w++ {
					simulateRound(all, fmt.Sprintf("w%d", w), now)
				}
			}
			counts := map[string]int{}
			for _, l := range all {
				counts[l.Owner]++
			}
			hi, lo := 0, tc.leases
			for w := 0; w < tc.workers; w++ {
				n := counts[fmt.Sprintf("w%d", w)]
				hi, lo = max(hi, n), min(lo, n)
			}
			assert.Equal(t, tc.most, hi, "%v", counts)
			assert.Equal(t, tc.least, lo, "%v", counts)
		})
	}
}

// simulateRound applies one instance's plan; an owner asked for a lease
// hands it over at once.
func simulateRound(all []listedLease, me string, now time.Time) {
	p := planBalance(all, me, func(string) bool { return true }, now)
	for _, d := range p.take {
		for i := range all {
			if all[i].ID == d.ID {
				all[i].Owner = me
			}
		}
	}
	if p.ask != nil {
		for i := range all {
			if all[i].ID == p.ask.ID {
				all[i].Owner = me
			}
		}
	}
}

func TestPlanBalanceTakesNoMoreThanItsShare(t *testing.T) {
	now := time.Now()
	p := planBalance(leasesOf(now, "a", "", "", "", "", ""), "me", func(string) bool { return true }, now)
	assert.Equal(t, 3, p.target)
	assert.Len(t, p.take, 3)
	for _, l := range p.take {
		assert.Empty(t, l.Owner, "only free leases")
	}
}

func TestUncoveredRangesGetLeases(t *testing.T) {
	ranges := []azcosmos.FeedRange{{MinInclusive: "", MaxExclusive: "40"}, {MinInclusive: "40", MaxExclusive: "80"}, {MinInclusive: "80", MaxExclusive: "FF"}}
	lease := func(min, max string) listedLease {
		return listedLease{leaseDoc: leaseDoc{FeedRange: leaseRange{Min: min, Max: max}}}
	}
	assert.Len(t, uncovered(ranges, nil), 3, "a function with no leases gets one per range")
	// A create that failed last round: the middle range has no lease.
	assert.Equal(t, map[int]leaseRange{1: {Min: "40", Max: "80"}}, uncovered(ranges, []listedLease{lease("", "40"), lease("80", "FF")}))
	// A split range is covered by its children.
	assert.Empty(t, uncovered(ranges, []listedLease{lease("", "40"), lease("40", "60"), lease("60", "80"), lease("80", "FF")}))
	// Ranges read after a split are covered by the parent's lease not yet split.
	split := []azcosmos.FeedRange{{MinInclusive: "", MaxExclusive: "20"}, {MinInclusive: "20", MaxExclusive: "40"}}
	assert.Empty(t, uncovered(split, []listedLease{lease("", "40")}))
}
