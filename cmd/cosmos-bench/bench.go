package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
)

// bench is an emulator and the SDK clients that drive it.
type bench struct {
	srv        *cosmos.Server
	containers []*azcosmos.ContainerClient // one per client
	ids        [][]string                  // per client: the ids it created
}

func newBench(ctx context.Context, dir string, clients int) (*bench, error) {
	srv, err := cosmos.Start(cosmos.Options{DataDir: dir})
	if err != nil {
		return nil, err
	}
	b := &bench{srv: srv, ids: make([][]string, clients)}
	if err := b.setup(ctx, clients); err != nil {
		_ = srv.Close()
		return nil, err
	}
	return b, nil
}

func (b *bench) setup(ctx context.Context, clients int) error {
	if err := b.connect(ctx, clients); err != nil {
		return err
	}
	return b.warmUp(ctx)
}

func (b *bench) connect(ctx context.Context, clients int) error {
	for i := range clients {
		client, err := azcosmos.NewClientFromConnectionString(b.srv.ConnectionString(), nil)
		if err != nil {
			return err
		}
		if i == 0 {
			if err := createContainer(ctx, client); err != nil {
				return err
			}
		}
		c, err := client.NewContainer("bench", "items")
		if err != nil {
			return err
		}
		b.containers = append(b.containers, c)
	}
	return nil
}

func createContainer(ctx context.Context, client *azcosmos.Client) error {
	if _, err := client.CreateDatabase(ctx, azcosmos.DatabaseProperties{ID: "bench"}, nil); err != nil {
		return err
	}
	db, err := client.NewDatabase("bench")
	if err != nil {
		return err
	}
	props := azcosmos.ContainerProperties{ID: "items", PartitionKeyDefinition: azcosmos.PartitionKeyDefinition{Paths: []string{"/pk"}}}
	_, err = db.CreateContainer(ctx, props, nil)
	return err
}

// warmUp has every client open its connection and fill the SDK's caches
// (account, container properties, partition key ranges) before timing.
func (b *bench) warmUp(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, len(b.containers))
	for i, c := range b.containers {
		wg.Go(func() {
			id := fmt.Sprint("warm-up-", i)
			body := fmt.Appendf(nil, `{"id":%q,"pk":%q}`, id, id)
			_, errs[i] = c.CreateItem(ctx, azcosmos.NewPartitionKeyString(id), body, nil)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (b *bench) close() { _ = b.srv.Close() }

// parallel runs op on every client until d has passed and counts the
// operations that succeeded.
func (b *bench) parallel(ctx context.Context, d time.Duration, op func(ctx context.Context, client, n int) error) (int, time.Duration, error) {
	var done atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for i := range b.containers {
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

func (b *bench) creates(ctx context.Context, d time.Duration) (int, time.Duration, error) {
	return b.parallel(ctx, d, func(ctx context.Context, client, n int) error {
		id := fmt.Sprintf("c%d-%d", client, n)
		body := fmt.Appendf(nil, `{"id":%q,"pk":%q,"orderId":"o-%d","seq":%d,"status":"Placed","total":12345}`, id, id, n, n)
		if _, err := b.containers[client].CreateItem(ctx, azcosmos.NewPartitionKeyString(id), body, nil); err != nil {
			return err
		}
		b.ids[client] = append(b.ids[client], id)
		return nil
	})
}

func (b *bench) reads(ctx context.Context, d time.Duration) (int, time.Duration, error) {
	return b.parallel(ctx, d, func(ctx context.Context, client, n int) error {
		ids := b.ids[client]
		id := ids[n%len(ids)]
		_, err := b.containers[client].ReadItem(ctx, azcosmos.NewPartitionKeyString(id), id, nil)
		return err
	})
}

// changeFeed reads the whole change feed from the beginning, in pages of
// 1000, through one SDK client.
func (b *bench) changeFeed(ctx context.Context, _ time.Duration) (int, time.Duration, error) {
	c := b.containers[0]
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
