package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/ordersflow/orderpipeline/emulators/servicebus/sbemu"
	"github.com/ordersflow/orderpipeline/shared/eventbus"
	"github.com/ordersflow/orderpipeline/shared/order"
)

// pipelineTopic is the topic PublishEvents sends to in the repository's
// emulator config (emulators/servicebus/config/orderpipeline.json).
const pipelineTopic = "order-events"

// userHZ is the unit of utime and stime in /proc/<pid>/stat.
const userHZ = 100

// measurePipeline starts the emulator on the pipeline's own config and
// publishes orders the way PublishEvents does: cfg.perPublish orders of
// cfg.events CloudEvents each in one call (as few message batches as fit),
// one session id per order, from cfg.clients goroutines on one client, to a topic with a session and a
// plain subscription and nobody receiving. It prints orders/s and the
// emulator's CPU time per order.
func measurePipeline(ctx context.Context, cfg config, mode string, opts []sbemu.Option) error {
	root, err := sbemu.RepoRoot()
	if err != nil {
		return err
	}
	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// the control endpoint tells, at the end, what the subscriptions hold
	opts = append(append([]sbemu.Option{}, opts...), sbemu.WithFaultControl())
	emu, err := sbemu.Start(startCtx, root, filepath.Join(root, "emulators", "servicebus", "config", "orderpipeline.json"), logWriter(cfg), opts...)
	if err != nil {
		return err
	}
	defer emu.Stop()
	client, err := azservicebus.NewClientFromConnectionString(emu.ConnectionString(), nil)
	if err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	defer client.Close(context.Background())
	sender, err := client.NewSender(pipelineTopic, nil)
	if err != nil {
		return fmt.Errorf("new sender: %w", err)
	}
	defer sender.Close(context.Background())
	pub, err := eventbus.New(sender)
	if err != nil {
		return err
	}
	// one order first, so the link is attached before the clock starts
	if err := sent(pub.Publish(ctx, [][]order.Event{orderEvents(cfg.events)})); err != nil {
		return fmt.Errorf("warm-up publish: %w", err)
	}
	before, err := cpuTime(emu.PID())
	if err != nil {
		return err
	}
	start := time.Now()
	if err := publishOrders(ctx, pub, cfg); err != nil {
		return err
	}
	elapsed := time.Since(start)
	after, err := cpuTime(emu.PID())
	if err != nil {
		return err
	}
	fmt.Printf("%s publish (pipeline): %6d orders of %d events in %6.2fs = %7.0f orders/s; emulator CPU %6.2f s = %.3f ms/order\n",
		mode, cfg.orders, cfg.events, elapsed.Seconds(), float64(cfg.orders)/elapsed.Seconds(),
		(after - before).Seconds(), float64((after-before).Microseconds())/1000/float64(cfg.orders))
	return checkDelivered(ctx, emu, (cfg.orders+1)*cfg.events)
}

// checkDelivered fails unless every subscription of the topic holds want
// messages: each event published, once.
func checkDelivered(ctx context.Context, emu *sbemu.Emulator, want int) error {
	stats, err := emu.Entities(ctx)
	if err != nil {
		return fmt.Errorf("emulator entities: %w", err)
	}
	subs := 0
	for path, st := range stats {
		if !strings.HasPrefix(path, pipelineTopic+"/Subscriptions/") || strings.HasSuffix(path, "/$DeadLetterQueue") {
			continue
		}
		subs++
		if st.Messages != want {
			return fmt.Errorf("%s holds %d messages, want %d", path, st.Messages, want)
		}
	}
	if subs == 0 {
		return fmt.Errorf("no subscriptions of %s in the emulator", pipelineTopic)
	}
	return nil
}

// publishOrders publishes cfg.orders orders from cfg.clients goroutines,
// cfg.perPublish orders in each call, as PublishEvents sends all orders of
// an invocation in one call.
func publishOrders(ctx context.Context, pub *eventbus.Publisher, cfg config) error {
	var next atomic.Int64
	errs := make(chan error, cfg.clients)
	var wg sync.WaitGroup
	for range cfg.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				last := next.Add(int64(cfg.perPublish))
				n := min(int64(cfg.perPublish), int64(cfg.orders)-(last-int64(cfg.perPublish)))
				if n <= 0 {
					return
				}
				orders := make([][]order.Event, n)
				for i := range orders {
					orders[i] = orderEvents(cfg.events)
				}
				if err := sent(pub.Publish(ctx, orders)); err != nil {
					errs <- fmt.Errorf("publish orders up to %d: %w", last, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// sent is the first failure among a publish call's results.
func sent(results []order.Published) error {
	for _, res := range results {
		if res.Err != nil {
			return res.Err
		}
	}
	return nil
}

// orderEvents are n events of a new order (a random id, as checkout's) with
// payloads the size of the pipeline's (an order's lines, tax, payment).
func orderEvents(n int) []order.Event {
	id := order.NewID()
	types := []order.EventType{order.OrderPlaced, order.TaxApplied, order.PaymentCaptured, order.OrderFulfilled}
	data := []byte(`{"customerId":"cust-0042","currency":"EUR","lines":[{"sku":"SKU-0001","qty":2,"unitPrice":1999},` +
		`{"sku":"SKU-0007","qty":1,"unitPrice":4999}],"shipTo":{"country":"DE","postalCode":"10115","city":"Berlin"},"subtotal":8997}`)
	events := make([]order.Event, n)
	for k := range events {
		t := types[k%len(types)]
		events[k] = order.Event{
			ID: order.EventID(id, t) + ":" + strconv.Itoa(k), OrderID: id, Kind: "event", Seq: k + 1, Type: t,
			At: time.Now().UTC(), CorrelationID: "corr-" + id, Data: data,
			TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		}
	}
	return events
}

// cpuTime is a process's utime + stime from /proc/<pid>/stat.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, fmt.Errorf("emulator CPU time: %w", err)
	}
	s := string(b)
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return 0, errors.New("emulator CPU time: no (comm) in /proc stat")
	}
	f := strings.Fields(s[end+1:]) // f[0] is field 3 (state); utime and stime are fields 14 and 15
	if len(f) < 13 {
		return 0, fmt.Errorf("emulator CPU time: %d fields in /proc stat", len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("emulator CPU time: %w", err)
	}
	return time.Duration(utime+stime) * time.Second / userHZ, nil
}
