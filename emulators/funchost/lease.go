package funchost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
)

// errLeaseLost means another host owns the lease now.
var errLeaseLost = errors.New("lease lost to another host")

// leaseDoc is one lease document in the lease container (partition key
// /id): which range of the monitored container it covers, who owns it
// until when, and the change feed continuation processed so far.
type leaseDoc struct {
	ID                string     `json:"id"`
	LeaseToken        string     `json:"LeaseToken"`
	FeedRange         leaseRange `json:"FeedRange"`
	Monitored         string     `json:"MonitoredContainer"` // "<database>/<container>"
	Owner             string     `json:"Owner"`
	ContinuationToken string     `json:"ContinuationToken"`
	Timestamp         time.Time  `json:"timestamp"`
	ExpiresAt         time.Time  `json:"ExpiresAt"`
	Version           int        `json:"version"`
}

type leaseRange struct {
	Min string `json:"min"`
	Max string `json:"max"`
}

// held reports whether someone other than owner holds the lease now.
func (d leaseDoc) heldByOther(owner string, now time.Time) bool {
	return d.Owner != "" && d.Owner != owner && now.Before(d.ExpiresAt)
}

// leaseStore reads and writes lease documents with optimistic concurrency.
type leaseStore struct {
	c     *azcosmos.ContainerClient
	owner string
	ttl   time.Duration
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

// acquire takes the lease if nobody else holds it; it returns nil and the
// current holder when another host owns it or won the race.
func (s *leaseStore) acquire(ctx context.Context, seed leaseDoc) (*heldLease, leaseDoc, error) {
	now := time.Now().UTC()
	d, etag, err := s.read(ctx, seed.ID)
	switch {
	case isNotFound(err):
		d = seed
	case err != nil:
		return nil, d, fmt.Errorf("read lease %s: %w", seed.ID, err)
	case d.Monitored != seed.Monitored:
		return nil, d, fmt.Errorf("lease %s belongs to container %s, not %s: use another leaseContainerPrefix", seed.ID, d.Monitored, seed.Monitored)
	case d.heldByOther(s.owner, now):
		return nil, d, nil
	}
	holder := d
	d.Owner, d.Timestamp, d.ExpiresAt = s.owner, now, now.Add(s.ttl)
	if etag == "" {
		etag, err = s.create(ctx, d)
	} else {
		etag, err = s.replace(ctx, d, etag)
	}
	if code := statusCode(err); code == http.StatusConflict || code == http.StatusPreconditionFailed {
		return nil, holder, nil // another host got there first
	}
	if err != nil {
		return nil, holder, fmt.Errorf("take lease %s: %w", seed.ID, err)
	}
	return &heldLease{store: s, doc: d, etag: etag}, d, nil
}

// heldLease is a lease this host owns. Every write goes through mu so
// renewals and checkpoints always carry the current ETag.
type heldLease struct {
	store *leaseStore
	mu    sync.Mutex
	doc   leaseDoc
	etag  azcore.ETag
}

func (h *heldLease) snapshot() leaseDoc {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.doc
}

// valid reports whether the lease is still ours with a safety margin,
// so this host stops before another one may take over.
func (h *heldLease) valid() bool {
	d := h.snapshot()
	margin := h.store.ttl / 10
	return time.Now().Before(d.ExpiresAt.Add(-margin))
}

func (h *heldLease) renew(ctx context.Context) error {
	return h.update(ctx, func(d *leaseDoc) {})
}

func (h *heldLease) checkpoint(ctx context.Context, continuation string) error {
	return h.update(ctx, func(d *leaseDoc) { d.ContinuationToken = continuation })
}

// release gives the lease up on shutdown, keeping the continuation.
func (h *heldLease) release(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.doc
	d.Owner, d.ExpiresAt = "", time.Now().UTC()
	_, err := h.store.replace(ctx, d, h.etag)
	return err
}

// update writes the lease with a fresh expiry, failing with errLeaseLost
// when the ETag shows someone else wrote it.
func (h *heldLease) update(ctx context.Context, change func(*leaseDoc)) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.doc
	change(&d)
	now := time.Now().UTC()
	d.Timestamp, d.ExpiresAt = now, now.Add(h.store.ttl)
	etag, err := h.store.replace(ctx, d, h.etag)
	if code := statusCode(err); code == http.StatusPreconditionFailed || code == http.StatusNotFound {
		return fmt.Errorf("lease %s: %w", d.ID, errLeaseLost)
	}
	if err != nil {
		return fmt.Errorf("write lease %s: %w", d.ID, err)
	}
	h.doc, h.etag = d, etag
	return nil
}
