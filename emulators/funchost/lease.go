package funchost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
)

// errLeaseLost means another instance owns the lease now.
var errLeaseLost = errors.New("lease lost to another instance")

// leaseDoc is one lease document in the lease container (partition key
// /id): which range of the monitored container it covers, who owns it
// until when, and the change feed continuation processed so far.
// RequestedBy is an instance asking the owner to hand the lease over (a
// steal while balancing); the owner does so at its next batch boundary.
type leaseDoc struct {
	ID                string     `json:"id"`
	LeaseToken        string     `json:"LeaseToken"`
	FeedRange         leaseRange `json:"FeedRange"`
	Monitored         string     `json:"MonitoredContainer"` // "<database>/<container>"
	Owner             string     `json:"Owner"`
	RequestedBy       string     `json:"RequestedBy,omitempty"`
	ContinuationToken string     `json:"ContinuationToken"`
	Timestamp         time.Time  `json:"timestamp"`
	ExpiresAt         time.Time  `json:"ExpiresAt"`
	Version           int        `json:"version"`
}

type leaseRange struct {
	Min string `json:"min"`
	Max string `json:"max"`
}

func (r leaseRange) String() string { return fmt.Sprintf("[%q, %q)", r.Min, r.Max) }

// overlaps reports whether r and o share any effective partition key.
// "" is the lowest and "FF" the highest; EPKs compare as strings.
func (r leaseRange) overlaps(o leaseRange) bool { return r.Min < o.Max && o.Min < r.Max }

// free reports whether nobody holds the lease now: never owned, released
// or expired.
func (d leaseDoc) free(now time.Time) bool {
	return d.Owner == "" || !now.Before(d.ExpiresAt)
}

// leaseStore reads and writes the lease documents of one function with
// optimistic concurrency: every write carries the ETag it was based on.
type leaseStore struct {
	c         *azcosmos.ContainerClient
	owner     string // "<instance>/<function>"
	prefix    string // leaseContainerPrefix
	monitored string // "<database>/<container>"
	ttl       time.Duration
}

func (s *leaseStore) read(ctx context.Context, id string) (leaseDoc, azcore.ETag, error) {
	resp, err := s.c.ReadItem(ctx, azcosmos.NewPartitionKeyString(id), id, nil)
	if err != nil {
		return leaseDoc{}, "", brief(err)
	}
	var d leaseDoc
	if err := json.Unmarshal(resp.Value, &d); err != nil {
		return leaseDoc{}, "", fmt.Errorf("decode lease %s: %w", id, err)
	}
	return d, resp.ETag, nil
}

// listedLease is a lease document as a query returns it, with its ETag.
type listedLease struct {
	leaseDoc
	ETag azcore.ETag `json:"_etag"`
}

// list returns every lease of this function: documents whose id is the
// prefix followed by their lease token, for the monitored container.
func (s *leaseStore) list(ctx context.Context) ([]listedLease, error) {
	q := "SELECT * FROM c WHERE STARTSWITH(c.id, @prefix)"
	opts := &azcosmos.QueryOptions{QueryParameters: []azcosmos.QueryParameter{{Name: "@prefix", Value: s.prefix}}}
	pager := s.c.NewQueryItemsPager(q, azcosmos.NewPartitionKey(), opts)
	var out []listedLease
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list leases: %w", brief(err))
		}
		for _, raw := range page.Items {
			var d listedLease
			if json.Unmarshal(raw, &d) != nil || d.LeaseToken == "" || d.ID != s.prefix+d.LeaseToken || d.Monitored != s.monitored {
				continue // another function's lease or not a lease
			}
			out = append(out, d)
		}
	}
	return out, nil
}

func (s *leaseStore) create(ctx context.Context, d leaseDoc) (azcore.ETag, error) {
	resp, err := s.c.CreateItem(ctx, azcosmos.NewPartitionKeyString(d.ID), mustJSON(d), nil)
	if err != nil {
		return "", brief(err)
	}
	return resp.ETag, nil
}

func (s *leaseStore) replace(ctx context.Context, d leaseDoc, etag azcore.ETag) (azcore.ETag, error) {
	resp, err := s.c.ReplaceItem(ctx, azcosmos.NewPartitionKeyString(d.ID), d.ID, mustJSON(d), &azcosmos.ItemOptions{IfMatchEtag: &etag})
	if err != nil {
		return "", brief(err)
	}
	return resp.ETag, nil
}

func (s *leaseStore) delete(ctx context.Context, id string, etag azcore.ETag) error {
	_, err := s.c.DeleteItem(ctx, azcosmos.NewPartitionKeyString(id), id, &azcosmos.ItemOptions{IfMatchEtag: &etag})
	return brief(err)
}

// instance is the instance part of an owner "<instance>/<function>".
func instance(owner string) string {
	if i := strings.LastIndexByte(owner, '/'); i > 0 {
		return owner[:i]
	}
	return owner
}

// take writes the lease as ours with a fresh expiry, if the ETag still
// matches the version the caller decided on. It returns nil when another
// instance wrote the lease in between.
func (s *leaseStore) take(ctx context.Context, d leaseDoc, etag azcore.ETag) (*heldLease, error) {
	now := time.Now().UTC()
	d.Owner, d.RequestedBy, d.Timestamp, d.ExpiresAt = s.owner, "", now, now.Add(s.ttl)
	etag, err := s.replace(ctx, d, etag)
	if code := statusCode(err); code == http.StatusPreconditionFailed || code == http.StatusNotFound {
		return nil, nil // another instance got there first
	}
	if err != nil {
		return nil, fmt.Errorf("take lease %s: %w", d.ID, err)
	}
	return newHeldLease(s, d, etag), nil
}

// request asks the owner of a lease to hand it over to us. It returns
// false when the lease changed in between.
func (s *leaseStore) request(ctx context.Context, d leaseDoc, etag azcore.ETag) (bool, error) {
	d.RequestedBy = s.owner
	_, err := s.replace(ctx, d, etag)
	if code := statusCode(err); code == http.StatusPreconditionFailed || code == http.StatusNotFound {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("ask for lease %s: %w", d.ID, err)
	}
	return true, nil
}

// heldLease is a lease this instance owns. Writes go one at a time
// (writing) so renewals and checkpoints always carry the current ETag;
// mu guards the fields only, so a snapshot never waits for a write.
type heldLease struct {
	store   *leaseStore
	writing sync.Mutex
	mu      sync.Mutex
	doc     leaseDoc
	etag    azcore.ETag
	asked   chan struct{} // closed when another instance asks for the lease
}

func newHeldLease(s *leaseStore, d leaseDoc, etag azcore.ETag) *heldLease {
	return &heldLease{store: s, doc: d, etag: etag, asked: make(chan struct{})}
}

func (h *heldLease) snapshot() leaseDoc {
	d, _ := h.current()
	return d
}

func (h *heldLease) current() (leaseDoc, azcore.ETag) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.doc, h.etag
}

func (h *heldLease) set(d leaseDoc, etag azcore.ETag) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.doc, h.etag = d, etag
}

// valid reports whether the lease is still ours with a safety margin,
// so this instance stops before another one may take over.
func (h *heldLease) valid() bool {
	d := h.snapshot()
	margin := h.store.ttl / 10
	return time.Now().Before(d.ExpiresAt.Add(-margin))
}

// requested reports whether another instance asked for the lease.
func (h *heldLease) requested() bool {
	select {
	case <-h.asked:
		return true
	default:
		return false
	}
}

func (h *heldLease) renew(ctx context.Context) error {
	return h.update(ctx, func(d *leaseDoc) {})
}

func (h *heldLease) checkpoint(ctx context.Context, continuation string) error {
	return h.update(ctx, func(d *leaseDoc) { d.ContinuationToken = continuation })
}

// release gives the lease up on shutdown, keeping the continuation, so any
// instance may take it at once.
func (h *heldLease) release(ctx context.Context) error {
	return h.write(ctx, func(d *leaseDoc) { d.Owner, d.RequestedBy, d.ExpiresAt = "", "", time.Now().UTC() })
}

// handOver gives the lease to the instance that asked for it; it starts
// from this instance's last checkpoint.
func (h *heldLease) handOver(ctx context.Context) (string, error) {
	to := h.snapshot().RequestedBy
	err := h.write(ctx, func(d *leaseDoc) {
		now := time.Now().UTC()
		d.Owner, d.RequestedBy, d.Timestamp, d.ExpiresAt = to, "", now, now.Add(h.store.ttl)
	})
	return to, err
}

// update writes the lease with a fresh expiry.
func (h *heldLease) update(ctx context.Context, change func(*leaseDoc)) error {
	return h.write(ctx, func(d *leaseDoc) {
		change(d)
		now := time.Now().UTC()
		d.Timestamp, d.ExpiresAt = now, now.Add(h.store.ttl)
	})
}

// write replaces the lease with the current ETag. A 412 means someone else
// wrote it: if we still own it (another instance asked for it) the request
// is noted and the write retried on the new version, as the change feed
// processor retries lease updates; otherwise the lease is lost.
func (h *heldLease) write(ctx context.Context, change func(*leaseDoc)) error {
	h.writing.Lock()
	defer h.writing.Unlock()
	for attempt := 0; ; attempt++ {
		d, etag := h.current()
		change(&d)
		etag, err := h.store.replace(ctx, d, etag)
		if err == nil {
			h.set(d, etag)
			return nil
		}
		if statusCode(err) != http.StatusPreconditionFailed || attempt == 5 {
			return h.failed(d.ID, err)
		}
		if err := h.refresh(ctx); err != nil {
			return err
		}
	}
}

// refresh reads the lease after a 412 and keeps our version of it (we
// write the continuation) with the server's ETag and request.
func (h *heldLease) refresh(ctx context.Context) error {
	d, _ := h.current()
	cur, etag, err := h.store.read(ctx, d.ID)
	if err != nil {
		return h.failed(d.ID, err)
	}
	if cur.Owner != d.Owner {
		return fmt.Errorf("lease %s (now %s): %w", d.ID, instance(cur.Owner), errLeaseLost)
	}
	d.RequestedBy = cur.RequestedBy
	h.set(d, etag)
	if cur.RequestedBy != "" && !h.requested() {
		close(h.asked)
	}
	return nil
}

func (h *heldLease) failed(id string, err error) error {
	if isNotFound(err) {
		return fmt.Errorf("lease %s was deleted: %w", id, errLeaseLost)
	}
	return fmt.Errorf("write lease %s: %w", id, err)
}

// remove deletes the lease (its range split and child leases replace it).
func (h *heldLease) remove(ctx context.Context) error {
	h.writing.Lock()
	defer h.writing.Unlock()
	for attempt := 0; ; attempt++ {
		d, etag := h.current()
		err := h.store.delete(ctx, d.ID, etag)
		if err == nil || isNotFound(err) {
			return nil
		}
		if statusCode(err) != http.StatusPreconditionFailed || attempt == 5 {
			return fmt.Errorf("delete lease %s: %w", d.ID, err)
		}
		if err := h.refresh(ctx); err != nil {
			return err
		}
	}
}
