package funchost

import (
	"math/rand/v2"
	"sort"
	"time"
)

// balancePlan is what one balancing round decides for this instance, as
// the change feed processor's EqualPartitionsBalancingStrategy does: aim
// at an equal share of the leases, take free (unowned or expired) leases
// first, and only when there are none ask one lease of the instance that
// holds the most, if it holds more than its share.
type balancePlan struct {
	take    []listedLease // free leases, and leases handed to us that we don't run yet
	ask     *listedLease  // a lease to ask its owner for
	leases  int
	workers int
	target  int
	mine    int
}

// planBalance decides which leases me should take. running says which
// lease ids this instance already works on.
func planBalance(all []listedLease, me string, running func(id string) bool, now time.Time) balancePlan {
	counts := map[string]int{me: 0}
	var free []listedLease
	p := balancePlan{leases: len(all)}
	for _, l := range all {
		switch {
		case l.free(now):
			free = append(free, l)
		case l.RequestedBy == me && l.Owner != me:
			counts[me]++ // asked for: ours once its owner hands it over
		default:
			counts[l.Owner]++
			if l.Owner == me && !running(l.ID) {
				p.take = append(p.take, l)
			}
		}
	}
	p.workers, p.mine = len(counts), counts[me]
	if p.leases == 0 {
		return p
	}
	p.target = targetCount(p.leases, p.workers)
	need := p.target - p.mine
	if need <= 0 {
		return p
	}
	if len(free) > 0 {
		rand.Shuffle(len(free), func(i, j int) { free[i], free[j] = free[j], free[i] })
		p.take = append(p.take, free[:min(need, len(free))]...)
		return p
	}
	p.ask = leaseToAsk(all, counts, me, p.target, need)
	return p
}

// targetCount is each instance's share: ⌈leases / workers⌉, at least 1.
func targetCount(leases, workers int) int {
	if leases <= workers {
		return 1
	}
	return (leases + workers - 1) / workers
}

// leaseToAsk picks a lease of the instance holding the most, if it holds
// more than the target (or at least the target when we need several), and
// nobody asked for it yet.
func leaseToAsk(all []listedLease, counts map[string]int, me string, target, need int) *listedLease {
	owners := make([]string, 0, len(counts))
	for o := range counts {
		owners = append(owners, o)
	}
	sort.Strings(owners)
	most := ""
	for _, o := range owners {
		if o != me && (most == "" || counts[o] > counts[most]) {
			most = o
		}
	}
	slack := 0
	if need > 1 {
		slack = 1
	}
	if most == "" || counts[most] <= target-slack {
		return nil
	}
	for i := range all {
		if all[i].Owner == most && all[i].RequestedBy == "" {
			return &all[i]
		}
	}
	return nil
}
