package funchost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
)

// feedToken is the composite change feed continuation azcosmos issues and
// accepts: one entry per EPK range with that range's ETag.
type feedToken struct {
	Version      int              `json:"version,omitempty"`
	ResourceID   string           `json:"resourceId"`
	Continuation []feedTokenRange `json:"continuation"`
}

type feedTokenRange struct {
	Min   string          `json:"minInclusive"`
	Max   string          `json:"maxExclusive"`
	Token json.RawMessage `json:"continuationToken,omitempty"`
}

func parseFeedToken(s string) (feedToken, bool) {
	var t feedToken
	if s == "" || json.Unmarshal([]byte(s), &t) != nil || len(t.Continuation) == 0 {
		return feedToken{}, false
	}
	return t, true
}

// Substatus codes of a 410 that mean the range is gone (Cosmos DB's
// PartitionKeyRangeGone, CompletingSplit, CompletingPartitionMigration).
var rangeGoneSubstatus = map[string]bool{"1002": true, "1007": true, "1008": true}

// isRangeGone reports a 410 whose substatus says the range split.
func isRangeGone(err error) bool {
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusGone || re.RawResponse == nil {
		return false
	}
	return rangeGoneSubstatus[re.RawResponse.Header.Get("x-ms-substatus")]
}

// splitOf reports whether a change feed read found the lease's range gone:
// a 410/1002 the SDK gave up on, or (what azcosmos does itself on a 410/1002:
// it refreshes its routing map and continues on the children) a
// continuation that now spans several physical ranges. children are the
// ranges from the continuation, or nil when they must be looked up.
func (l *listener) splitOf(continuation string, err error) ([]leaseRange, bool) {
	if err != nil {
		return nil, isRangeGone(err)
	}
	t, ok := parseFeedToken(continuation)
	if !ok || len(t.Continuation) < 2 {
		return nil, false
	}
	out := make([]leaseRange, 0, len(t.Continuation))
	for _, r := range t.Continuation {
		out = append(out, leaseRange{Min: r.Min, Max: r.Max})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Min < out[j].Min })
	return out, true
}

// split replaces the lease with one child lease per child range, each
// starting from the parent's continuation, as the Cosmos DB extension's
// change feed processor does; the children are free for any instance to
// take. It returns false when the children can't be told yet.
func (l *listener) split(ctx context.Context, hl *heldLease, children []leaseRange) bool {
	parent := hl.snapshot()
	if children == nil {
		var err error
		if children, err = l.childRanges(ctx, parent.FeedRange); err != nil || len(children) < 2 {
			l.con.printf("%s: lease %s: range %s is gone, but the children are not known yet (%v)", l.fn.Name, parent.ID, parent.FeedRange, err)
			return false
		}
	}
	var ids []string
	for i, r := range children {
		child := childLease(parent, i, r)
		if _, err := l.leases.create(ctx, child); err != nil && statusCode(err) != http.StatusConflict {
			l.con.printf("%s: lease %s split: create %s: %v", l.fn.Name, parent.ID, child.ID, err)
			return false
		}
		ids = append(ids, fmt.Sprintf("%s %s", child.ID, r))
	}
	if err := hl.remove(ctx); err != nil {
		l.con.printf("%s: lease %s split: %v", l.fn.Name, parent.ID, err)
		return false
	}
	l.con.printf("%s: lease %s %s is gone (partition split); %s replaced it with %s, from its continuation",
		l.fn.Name, parent.ID, parent.FeedRange, l.me, strings.Join(ids, " and "))
	return true
}

// childLease is the i-th child of a split lease: its token extends the
// parent's ("1" splits into "1.0" and "1.1"), so every instance that
// handles the same split creates the same documents.
func childLease(parent leaseDoc, i int, r leaseRange) leaseDoc {
	token := parent.LeaseToken + "." + strconv.Itoa(i)
	return leaseDoc{
		ID: strings.TrimSuffix(parent.ID, parent.LeaseToken) + token, LeaseToken: token, Version: 1,
		FeedRange: r, Monitored: parent.Monitored, ContinuationToken: childContinuation(parent.ContinuationToken, r),
	}
}

// childContinuation is the parent's continuation narrowed to the child
// range: the same ETag, so the child reads every change after the parent's
// last checkpoint. An unread parent gives an unread child.
func childContinuation(parent string, r leaseRange) string {
	t, ok := parseFeedToken(parent)
	if !ok {
		return ""
	}
	from := t.Continuation[0]
	for _, e := range t.Continuation {
		if overlaps(leaseRange{Min: e.Min, Max: e.Max}, r) {
			from = e
			break
		}
	}
	t.Continuation = []feedTokenRange{{Min: r.Min, Max: r.Max, Token: from.Token}}
	return string(mustJSON(t))
}

// overlaps compares EPK ranges; "FF" is the top of the EPK space.
func overlaps(a, b leaseRange) bool {
	return a.Min < epkMax(b.Max) && b.Min < epkMax(a.Max)
}

func epkMax(s string) string {
	if s == "FF" {
		return "\xff"
	}
	return s
}

// childRanges are the current feed ranges inside parent.
func (l *listener) childRanges(ctx context.Context, parent leaseRange) ([]leaseRange, error) {
	ranges, err := l.feed.ReadFeedRanges(ctx, nil)
	if err != nil {
		return nil, brief(err)
	}
	out := make([]leaseRange, len(ranges))
	for i, fr := range ranges {
		out[i] = leaseRange{Min: fr.MinInclusive, Max: fr.MaxExclusive}
	}
	return within(out, parent), nil
}

// within clamps ranges to parent and keeps those that overlap it, in order.
func within(ranges []leaseRange, parent leaseRange) []leaseRange {
	var out []leaseRange
	for _, fr := range ranges {
		r := leaseRange{Min: max(fr.Min, parent.Min), Max: fr.Max}
		if epkMax(parent.Max) < epkMax(r.Max) {
			r.Max = parent.Max
		}
		if overlaps(r, parent) && r.Min < epkMax(r.Max) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Min < out[j].Min })
	return out
}
