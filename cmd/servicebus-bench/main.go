// Command servicebus-bench measures the local Service Bus emulator through the
// azservicebus SDK: messages/s sent in batches, then messages/s received and
// completed by concurrent PeekLock receivers.
//
//	go run ./cmd/servicebus-bench [-messages 100000] [-receivers 8] [-modes memory,durable] [-connection-string ...]
//
// With -pattern pipeline it publishes orders instead, the way the pipeline's
// PublishEvents does (the CloudEvents of several orders per call, in as few
// message batches as fit, one session id per order, to the order-events topic of the pipeline's config, whose two
// subscriptions nobody receives from during a load), and reports orders/s
// and the emulator's CPU time per order:
//
//	go run ./cmd/servicebus-bench -pattern pipeline [-orders 3000] [-clients 64] [-events 4] [-per-publish 16] [-modes durable]
//
// Without -connection-string it starts the emulator itself for each mode
// (needs `npm --prefix emulators/servicebus ci` first): in memory, and
// durable on a temporary data directory; and stops it when done.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/ordersflow/orderpipeline/emulators/servicebus/sbemu"
)

type config struct {
	messages   int
	size       int
	receivers  int
	senders    int
	settlers   int
	queue      string
	connStr    string
	modes      string
	verbose    bool
	pattern    string
	orders     int
	clients    int
	events     int
	perPublish int
	cpuProf    string
}

func main() {
	var cfg config
	flag.IntVar(&cfg.messages, "messages", 100_000, "messages to send and then receive")
	flag.IntVar(&cfg.size, "size", 256, "body size in bytes")
	flag.IntVar(&cfg.receivers, "receivers", 8, "concurrent PeekLock receivers")
	flag.IntVar(&cfg.senders, "senders", 2, "concurrent batch senders")
	flag.IntVar(&cfg.settlers, "settlers", 16, "completions in flight per receiver")
	flag.StringVar(&cfg.queue, "queue", "bench", "queue name")
	flag.StringVar(&cfg.connStr, "connection-string", "", "use a running emulator instead of starting one")
	flag.StringVar(&cfg.modes, "modes", "memory,durable", "emulator modes to measure, in order: memory, durable (with a data directory)")
	flag.BoolVar(&cfg.verbose, "v", false, "forward emulator logs to stderr")
	flag.StringVar(&cfg.pattern, "pattern", "queue", "queue: batched sends then PeekLock receivers; pipeline: PublishEvents' batches to the pipeline's topic")
	flag.IntVar(&cfg.orders, "orders", 3000, "pipeline: orders to publish")
	flag.IntVar(&cfg.clients, "clients", 64, "pipeline: publish calls at once")
	flag.IntVar(&cfg.events, "events", 4, "pipeline: events (messages) per order")
	flag.IntVar(&cfg.perPublish, "per-publish", 16, "pipeline: orders per publish call (PublishEvents sends all orders of an invocation in one)")
	flag.StringVar(&cfg.cpuProf, "cpu-prof", "", "write the emulator's node CPU profile (.cpuprofile) into this directory when it stops")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "servicebus-bench:", err)
		os.Exit(1)
	}
}

func realMain(ctx context.Context, cfg config) error {
	if cfg.messages <= 0 || cfg.receivers <= 0 || cfg.senders <= 0 || cfg.settlers <= 0 {
		return errors.New("-messages, -receivers, -senders and -settlers must be positive")
	}
	switch cfg.pattern {
	case "queue":
	case "pipeline":
		if cfg.orders <= 0 || cfg.clients <= 0 || cfg.events <= 0 || cfg.perPublish <= 0 {
			return errors.New("-orders, -clients, -events and -per-publish must be positive")
		}
		if cfg.connStr != "" {
			return errors.New("-pattern pipeline starts its own emulator (to measure its CPU time): no -connection-string")
		}
		fmt.Printf("servicebus-bench: pipeline pattern, %d orders of %d events, %d per publish call, %d calls at once\n",
			cfg.orders, cfg.events, cfg.perPublish, cfg.clients)
		for _, mode := range strings.Split(cfg.modes, ",") {
			if err := measureMode(ctx, cfg, strings.TrimSpace(mode)); err != nil {
				return err
			}
		}
		return nil
	default:
		return fmt.Errorf("-pattern: unknown pattern %q (queue, pipeline)", cfg.pattern)
	}
	fmt.Printf("servicebus-bench: %d messages of %d bytes, %d batch senders, %d receivers (%d completions in flight each)\n",
		cfg.messages, cfg.size, cfg.senders, cfg.receivers, cfg.settlers)
	if cfg.connStr != "" {
		return measure(ctx, cfg, cfg.connStr)
	}
	for _, mode := range strings.Split(cfg.modes, ",") {
		if err := measureMode(ctx, cfg, strings.TrimSpace(mode)); err != nil {
			return err
		}
	}
	return nil
}

// measureMode starts an emulator in memory or on a fresh data directory and measures it.
func measureMode(ctx context.Context, cfg config, mode string) error {
	var opts []sbemu.Option
	switch mode {
	case "memory":
	case "durable":
		dir, err := os.MkdirTemp("", "servicebus-bench-data")
		if err != nil {
			return fmt.Errorf("temp dir: %w", err)
		}
		defer os.RemoveAll(dir)
		opts = append(opts, sbemu.WithDataDir(dir))
	default:
		return fmt.Errorf("-modes: unknown mode %q (memory, durable)", mode)
	}
	if cfg.cpuProf != "" {
		opts = append(opts, sbemu.WithCPUProfile(cfg.cpuProf))
	}
	if cfg.pattern == "pipeline" {
		return measurePipeline(ctx, cfg, mode, opts)
	}
	emu, err := startEmulator(ctx, cfg, opts...)
	if err != nil {
		return err
	}
	defer emu.Stop()
	fmt.Printf("%s:\n", mode)
	return measure(ctx, cfg, emu.ConnectionString())
}

func measure(ctx context.Context, cfg config, connStr string) error {
	client, err := azservicebus.NewClientFromConnectionString(connStr, nil)
	if err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	defer client.Close(context.Background())
	elapsed, err := sendAll(ctx, client, cfg)
	if err != nil {
		return err
	}
	fmt.Printf("send (batched):        %8d msgs in %6.2fs = %9.0f msgs/s\n", cfg.messages, elapsed.Seconds(), float64(cfg.messages)/elapsed.Seconds())
	elapsed, err = receiveAll(ctx, client, cfg)
	if err != nil {
		return err
	}
	fmt.Printf("receive+complete (x%d): %8d msgs in %6.2fs = %9.0f msgs/s\n", cfg.receivers, cfg.messages, elapsed.Seconds(), float64(cfg.messages)/elapsed.Seconds())
	return nil
}

func startEmulator(ctx context.Context, cfg config, opts ...sbemu.Option) (*sbemu.Emulator, error) {
	root, err := sbemu.RepoRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "servicebus-bench")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	doc := map[string]any{"UserConfig": map[string]any{"Namespaces": []any{map[string]any{
		"Name": "sbemulatorns",
		"Queues": []any{map[string]any{"Name": cfg.queue, "Properties": map[string]any{
			"LockDuration": "PT1M", "MaxDeliveryCount": 10, "DefaultMessageTimeToLive": "PT1H",
		}}},
	}}}}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	path := filepath.Join(dir, "Config.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("write config: %w", err)
	}
	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return sbemu.Start(startCtx, root, path, logWriter(cfg), opts...)
}

func logWriter(cfg config) io.Writer {
	if cfg.verbose {
		return os.Stderr
	}
	return io.Discard
}

// sendAll sends cfg.messages messages in full batches from cfg.senders senders.
func sendAll(ctx context.Context, client *azservicebus.Client, cfg config) (time.Duration, error) {
	body := make([]byte, cfg.size)
	for i := range body {
		body[i] = byte('a' + i%26)
	}
	var next atomic.Int64
	start := time.Now()
	errs := make(chan error, cfg.senders)
	var wg sync.WaitGroup
	for range cfg.senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- sendBatches(ctx, client, cfg, body, &next)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

func sendBatches(ctx context.Context, client *azservicebus.Client, cfg config, body []byte, next *atomic.Int64) error {
	sender, err := client.NewSender(cfg.queue, nil)
	if err != nil {
		return fmt.Errorf("new sender: %w", err)
	}
	defer sender.Close(context.Background())
	total := int64(cfg.messages)
	for {
		batch, err := sender.NewMessageBatch(ctx, nil)
		if err != nil {
			return fmt.Errorf("new batch: %w", err)
		}
		for {
			n := next.Add(1)
			if n > total {
				break
			}
			err := batch.AddMessage(&azservicebus.Message{Body: body}, nil)
			if errors.Is(err, azservicebus.ErrMessageTooLarge) {
				next.Add(-1) // give the number back; it goes in the next batch
				break
			}
			if err != nil {
				return fmt.Errorf("add to batch: %w", err)
			}
		}
		if batch.NumMessages() == 0 {
			return nil
		}
		sendCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err = sender.SendMessageBatch(sendCtx, batch, nil)
		cancel()
		if err != nil {
			return fmt.Errorf("send batch: %w", err)
		}
	}
}

// receiveAll receives and completes cfg.messages messages with cfg.receivers receivers.
func receiveAll(ctx context.Context, client *azservicebus.Client, cfg config) (time.Duration, error) {
	var done atomic.Int64
	total := int64(cfg.messages)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	errs := make(chan error, cfg.receivers)
	var wg sync.WaitGroup
	for range cfg.receivers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := receiveLoop(ctx, client, cfg.queue, cfg.settlers, &done, total)
			if err != nil && ctx.Err() == nil {
				errs <- err
				cancel()
			}
			if done.Load() >= total {
				cancel()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return 0, err
	}
	if done.Load() < total {
		return 0, fmt.Errorf("received %d of %d messages", done.Load(), total)
	}
	return time.Since(start), nil
}

func receiveLoop(ctx context.Context, client *azservicebus.Client, queue string, settlers int, done *atomic.Int64, total int64) error {
	r, err := client.NewReceiverForQueue(queue, nil)
	if err != nil {
		return fmt.Errorf("new receiver: %w", err)
	}
	defer r.Close(context.Background())
	for done.Load() < total {
		msgs, err := r.ReceiveMessages(ctx, 200, nil)
		if err != nil {
			return fmt.Errorf("receive: %w", err)
		}
		if err := completeAll(ctx, r, msgs, settlers); err != nil {
			return err
		}
		done.Add(int64(len(msgs)))
	}
	return nil
}

// completeAll completes msgs with up to n settlements in flight, the way a
// handler pool on one receiver settles what it has processed.
func completeAll(ctx context.Context, r *azservicebus.Receiver, msgs []*azservicebus.ReceivedMessage, n int) error {
	sem := make(chan struct{}, n)
	errs := make(chan error, len(msgs))
	var wg sync.WaitGroup
	for _, m := range msgs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := r.CompleteMessage(ctx, m, nil); err != nil {
				errs <- fmt.Errorf("complete: %w", err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}
