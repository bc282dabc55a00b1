// Command latency measures how long an order takes from checkout to
// Fulfilled on a fresh local stack: it places orders one at a time on an
// otherwise idle stack and prints p50/p90/p99, both as the server recorded
// it (OrderFulfilled.at − OrderPlaced.at) and as a client polling GetOrder
// sees it.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"time"

	"github.com/ordersflow/orderpipeline/emulators/devstack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := realMain(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "latency:", err)
		os.Exit(1)
	}
}

func realMain(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("latency", flag.ContinueOnError)
	app := fs.String("app", "dist/app", "staged app directory (make build)")
	n := fs.Int("orders", 500, "orders to place, one at a time")
	poll := fs.Duration("feed-poll-delay", devstack.DefaultFeedPollDelay, "change feed poll delay of the triggers")
	if err := fs.Parse(args); err != nil {
		return err
	}
	data, err := os.MkdirTemp("", "latency-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(data)
	st, err := devstack.Start(ctx, devstack.Options{AppDir: *app, Addr: "127.0.0.1:0", DataDir: data,
		FeedPollDelay: *poll, Console: io.Discard})
	if err != nil {
		return err
	}
	defer st.Close()
	server, client, err := measure(ctx, st.URL(), *n)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "placed → Fulfilled, %d orders one at a time, durable local stack, feedPollDelay %s\n", *n, *poll)
	report(out, "server (event times)", server)
	report(out, "client (202 → GET shows Fulfilled)", client)
	return nil
}

func measure(ctx context.Context, base string, n int) (server, client []time.Duration, err error) {
	hc := &http.Client{Timeout: 10 * time.Second}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		id, err := place(hc, base)
		if err != nil {
			return nil, nil, err
		}
		placed := time.Now()
		o, err := waitFulfilled(hc, base, id)
		if err != nil {
			return nil, nil, err
		}
		client = append(client, time.Since(placed))
		server = append(server, o.Events[len(o.Events)-1].At.Sub(o.Events[0].At))
	}
	return server, client, ctx.Err()
}

var body = []byte(`{"customerId":"bench","currency":"USD","lines":[{"sku":"GIFT-25","quantity":1}],` +
	`"shipTo":{"country":"US","region":"TX","postalCode":"73301"},"payment":{"token":"tok_visa"}}`)

func place(hc *http.Client, base string) (string, error) {
	resp, err := hc.Post(base+"/api/orders", "application/json", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var o struct{ ID string }
	if resp.StatusCode != http.StatusAccepted {
		b, _ := io.ReadAll(resp.Body)
		return "", fmt.Errorf("checkout: %s: %s", resp.Status, b)
	}
	return o.ID, json.NewDecoder(resp.Body).Decode(&o)
}

type order struct {
	Status string
	Events []struct{ At time.Time }
}

func waitFulfilled(hc *http.Client, base, id string) (order, error) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var o order
		resp, err := hc.Get(base + "/api/orders/" + id)
		if err != nil {
			return o, err
		}
		err = json.NewDecoder(resp.Body).Decode(&o)
		resp.Body.Close()
		if err == nil && o.Status == "Fulfilled" {
			return o, nil
		}
		time.Sleep(2 * time.Millisecond)
	}
	return order{}, fmt.Errorf("order %s not Fulfilled in 30s", id)
}

func report(w io.Writer, name string, d []time.Duration) {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	pct := func(p float64) time.Duration { return d[int(p*float64(len(d)-1))] }
	fmt.Fprintf(w, "  %-36s p50 %6.1f ms   p90 %6.1f ms   p99 %6.1f ms   max %6.1f ms\n", name,
		ms(pct(0.50)), ms(pct(0.90)), ms(pct(0.99)), ms(d[len(d)-1]))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
