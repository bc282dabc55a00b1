package funchost

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"
)

// hostsContainer holds the real host's locks: locks/{hostId}/host is the
// primary host lock, a blob lease held by one instance of the app.
const hostsContainer = "azure-webjobs-hosts"

// lockTiming is the lease period (Azure allows 15–60 s), how often the
// holder renews, and how often the others try to take it.
type lockTiming struct {
	Lease, Renew, Retry time.Duration
}

var defaultLockTiming = lockTiming{Lease: 15 * time.Second, Renew: 5 * time.Second, Retry: 5 * time.Second}

// primaryLock contends for the primary host lock until stopped.
type primaryLock struct {
	container *container.Client
	blobName  string
	lease     *lease.BlobClient
	blob      *blockblob.Client
	instance  string
	con       *console
	timing    lockTiming

	primary  atomic.Bool
	stopOnce sync.Once
	cancel   context.CancelFunc
	done     chan struct{}
}

func newPrimaryLock(c *azblob.Client, hostID, instance string, con *console, timing lockTiming) *primaryLock {
	if timing == (lockTiming{}) {
		timing = defaultLockTiming
	}
	cc := c.ServiceClient().NewContainerClient(hostsContainer)
	name := "locks/" + hostID + "/host"
	bb := cc.NewBlockBlobClient(name)
	id := instance
	lc, _ := lease.NewBlobClient(bb, &lease.BlobClientOptions{LeaseID: &id}) // only fails for a malformed blob URL
	return &primaryLock{container: cc, blobName: name, lease: lc, blob: bb, instance: instance, con: con, timing: timing, done: make(chan struct{})}
}

// start makes sure the lock blob exists, makes a first attempt and keeps
// contending in the background.
func (l *primaryLock) start(ctx context.Context) error {
	if err := ensureContainer(ctx, l.container); err != nil {
		return err
	}
	if err := uploadIfAbsent(ctx, l.blob, nil); err != nil && !alreadyExists(err) && !bloberror.HasCode(err, bloberror.LeaseIDMissing) {
		return wrapBlob("create", hostsContainer+"/"+l.blobName, err)
	}
	run, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	l.tryAcquire(run)
	go l.loop(run)
	return nil
}

func (l *primaryLock) loop(ctx context.Context) {
	defer close(l.done)
	for {
		wait := l.timing.Retry
		if l.primary.Load() {
			wait = l.timing.Renew
		}
		if !sleep(wait, ctx) {
			return
		}
		if l.primary.Load() {
			l.renew(ctx)
		} else {
			l.tryAcquire(ctx)
		}
	}
}

func (l *primaryLock) tryAcquire(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, storageTimeout)
	defer cancel()
	if _, err := l.lease.AcquireLease(ctx, int32(l.timing.Lease/time.Second), nil); err != nil {
		return // held by another instance, or storage unreachable: try again later
	}
	l.primary.Store(true)
	l.con.printf("Host lock lease acquired by instance ID '%s'.", l.instance)
}

func (l *primaryLock) renew(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, storageTimeout)
	defer cancel()
	if _, err := l.lease.RenewLease(ctx, nil); err != nil && ctx.Err() == nil {
		l.primary.Store(false)
		l.con.printf("Failed to renew host lock lease: %v", err)
	}
}

// stop ends contending and releases the lease if this instance holds it,
// so another instance becomes primary without waiting for the expiry.
func (l *primaryLock) stop() {
	l.stopOnce.Do(func() {
		if l.cancel == nil {
			return
		}
		l.cancel()
		<-l.done
		if !l.primary.Swap(false) {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), storageTimeout)
		defer cancel()
		if _, err := l.lease.ReleaseLease(ctx, nil); err == nil {
			l.con.printf("Host lock lease released by instance ID '%s'.", l.instance)
		}
	})
}
