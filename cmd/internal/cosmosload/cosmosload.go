// Package cosmosload drives a Cosmos DB endpoint with concurrent azcosmos
// clients: point creates, point reads and change feed reads. cmd/cosmos-bench
// and cmd/bench-load measure the emulator (and cosmium) with it.
package cosmosload

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
)

// Database and Container are what New creates on the endpoint.
const (
	Database  = "bench"
	Container = "items"
)

// Load is a set of SDK clients, each with its own connection, on one
// container of one endpoint.
type Load struct {
	containers []*azcosmos.ContainerClient // one per client
	ids        [][]string                  // per client: the ids it created
}

// New connects clients SDK clients through connectionString, creates the
// database and container, and warms every client up (connection, account,
// container and partition key range caches) so that timing starts hot.
// opts may be nil.
func New(ctx context.Context, connectionString string, clients int, opts *azcosmos.ClientOptions) (*Load, error) {
	if clients < 1 {
		return nil, errors.New("cosmosload: at least one client")
	}
	l := &Load{ids: make([][]string, clients)}
	if err := l.connect(ctx, connectionString, clients, opts); err != nil {
		return nil, err
	}
	return l, l.warmUp(ctx)
}

func (l *Load) connect(ctx context.Context, connectionString string, clients int, opts *azcosmos.ClientOptions) error {
	for i := range clients {
		client, err := azcosmos.NewClientFromConnectionString(connectionString, opts)
		if err != nil {
			return err
		}
		if i == 0 {
			if err := createContainer(ctx, client); err != nil {
				return err
			}
		}
		c, err := client.NewContainer(Database, Container)
		if err != nil {
			return err
		}
		l.containers = append(l.containers, c)
	}
	return nil
}

func createContainer(ctx context.Context, client *azcosmos.Client) error {
	if _, err := client.CreateDatabase(ctx, azcosmos.DatabaseProperties{ID: Database}, nil); err != nil {
		return fmt.Errorf("create database %s: %w", Database, err)
	}
	db, err := client.NewDatabase(Database)
	if err != nil {
		return err
	}
	props := azcosmos.ContainerProperties{ID: Container, PartitionKeyDefinition: azcosmos.PartitionKeyDefinition{Paths: []string{"/pk"}}}
	if _, err = db.CreateContainer(ctx, props, nil); err != nil {
		return fmt.Errorf("create container %s: %w", Container, err)
	}
	return nil
}

func (l *Load) warmUp(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, len(l.containers))
	for i, c := range l.containers {
		wg.Go(func() {
			id := fmt.Sprint("warm-up-", i)
			body := fmt.Appendf(nil, `{"id":%q,"pk":%q}`, id, id)
			_, errs[i] = c.CreateItem(ctx, azcosmos.NewPartitionKeyString(id), body, nil)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Clients is how many SDK clients drive the endpoint.
func (l *Load) Clients() int { return len(l.containers) }

// parallel runs op on every client until d has passed and counts the
// operations that succeeded.
func (l *Load) parallel(ctx context.Context, d time.Duration, op func(ctx context.Context, client, n int) error) (int, time.Duration, error) {
	var done atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for i := range l.containers {
		wg.Go(func() {
			for n := 0; time.Now().Before(deadline) && ctx.Err() == nil; n++ {
				if err := op(ctx, i, n); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	return int(done.Load()), time.Since(start), firstErr
}

// Creates has every client create small items, one after another, for d.
// It returns how many were created and how long it took. It may run again:
// ids continue where the last run stopped.
func (l *Load) Creates(ctx context.Context, d time.Duration) (int, time.Duration, error) {
	return l.parallel(ctx, d, func(ctx context.Context, client, _ int) error {
		n := len(l.ids[client])
		id := fmt.Sprintf("c%d-%d", client, n)
		body := fmt.Appendf(nil, `{"id":%q,"pk":%q,"orderId":"o-%d","seq":%d,"status":"Placed","total":12345}`, id, id, n, n)
		if _, err := l.containers[client].CreateItem(ctx, azcosmos.NewPartitionKeyString(id), body, nil); err != nil {
			return err
		}
		l.ids[client] = append(l.ids[client], id)
		return nil
	})
}

// Reads has every client point-read the items it created, for d. Run
// Creates first.
func (l *Load) Reads(ctx context.Context, d time.Duration) (int, time.Duration, error) {
	for i, ids := range l.ids {
		if len(ids) == 0 {
			return 0, 0, fmt.Errorf("cosmosload: client %d created nothing to read", i)
		}
	}
	return l.parallel(ctx, d, func(ctx context.Context, client, n int) error {
		ids := l.ids[client]
		id := ids[n%len(ids)]
		_, err := l.containers[client].ReadItem(ctx, azcosmos.NewPartitionKeyString(id), id, nil)
		return err
	})
}

// ChangeFeed reads the whole change feed from the beginning, in pages of
// 1000, through one SDK client.
func (l *Load) ChangeFeed(ctx context.Context, _ time.Duration) (int, time.Duration, error) {
	c := l.containers[0]
	start := time.Now()
	ranges, err := c.ReadFeedRanges(ctx, nil)
	if err != nil {
		return 0, 0, err
	}
	total := 0
	for _, fr := range ranges {
		n, err := drain(ctx, c, fr)
		if err != nil {
			return total, time.Since(start), err
		}
		total += n
	}
	return total, time.Since(start), nil
}

func drain(ctx context.Context, c *azcosmos.ContainerClient, fr azcosmos.FeedRange) (int, error) {
	total, token := 0, ""
	for {
		opts := &azcosmos.ChangeFeedOptions{FeedRange: &fr, MaxItemCount: 1000}
		if token != "" {
			opts.Continuation = &token
		}
		resp, err := c.ReadChangeFeed(ctx, opts)
		if err != nil {
			return total, err
		}
		if len(resp.Items) == 0 {
			return total, nil
		}
		total += len(resp.Items)
		token = resp.ContinuationToken
	}
}
