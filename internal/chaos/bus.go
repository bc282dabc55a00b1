package chaos

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/ordersflow/orderpipeline/emulators/servicebus/sbemu"
)

const (
	topic = "order-events"
	// busQuiet ends reading a subscription: this long with nothing new
	// once every event has arrived (to catch duplicates), or with nothing
	// at all (the publisher has stopped).
	busQuiet   = 3 * time.Second
	busStalled = 60 * time.Second
)

// tally counts each message id a subscription delivered.
type tally struct {
	mu   sync.Mutex
	seen map[string]int
	last time.Time
}

func (t *tally) add(msgs []*azservicebus.ReceivedMessage) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, m := range msgs {
		t.seen[m.MessageID]++
	}
	if len(msgs) > 0 {
		t.last = time.Now()
	}
}

// done reports whether reading can stop: every wanted id seen and quiet
// since, or nothing new for busStalled.
func (t *tally) done(want map[string]bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	all := true
	for id := range want {
		if t.seen[id] == 0 {
			all = false
			break
		}
	}
	idle := time.Since(t.last)
	return (all && idle > busQuiet) || idle > busStalled
}

// checkBus reads both subscriptions to the end: every event exactly once
// on each (the broker's duplicate detection drops what PublishEvents sent
// again), nothing else, and nothing on their dead-letter queues.
func (r *run) checkBus(ctx context.Context, events []eventDoc) Check {
	want, perOrder := map[string]bool{}, map[string]int{}
	for _, e := range events {
		want[e.ID] = true
		perOrder[e.OrderID]++
	}
	client, err := azservicebus.NewClientFromConnectionString(r.stack.bus, nil)
	if err != nil {
		return Check{Name: "every event on each subscription once", Detail: err.Error()}
	}
	defer client.Close(ctx)
	var bad []string
	detail := ""
	for _, sub := range []string{"analytics", "audit"} {
		t := &tally{seen: map[string]int{}, last: time.Now()}
		if err := readSubscription(ctx, client, sub, t, want, perOrder); err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", sub, err))
		}
		bad = append(bad, compare(sub, t.seen, want)...)
		detail += fmt.Sprintf("%s %d messages, ", sub, total(t.seen))
	}
	bad = append(bad, r.deadLetterQueues(ctx)...)
	return Check{Name: "every event reached each subscription exactly once", OK: len(bad) == 0,
		Detail: fmt.Sprintf("%d events; %sproblems: %s", len(want), detail, some(bad))}
}

func readSubscription(ctx context.Context, client *azservicebus.Client, sub string, t *tally, want map[string]bool,
	perOrder map[string]int) error {
	opts := &azservicebus.ReceiverOptions{ReceiveMode: azservicebus.ReceiveModeReceiveAndDelete}
	if sub != "audit" {
		recv, err := client.NewReceiverForSubscription(topic, sub, opts)
		if err != nil {
			return err
		}
		defer recv.Close(ctx)
		return drain(ctx, recv, t, want)
	}
	sr := sessionReader{client: client, sub: sub, t: t, want: want, perOrder: perOrder,
		opts: &azservicebus.SessionReceiverOptions{ReceiveMode: opts.ReceiveMode}}
	return sr.read(ctx)
}

// receiver is what drain needs of a (session) receiver.
type receiver interface {
	ReceiveMessages(ctx context.Context, max int, o *azservicebus.ReceiveMessagesOptions) ([]*azservicebus.ReceivedMessage, error)
}

func drain(ctx context.Context, recv receiver, t *tally, want map[string]bool) error {
	for !t.done(want) {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		msgs, err := recv.ReceiveMessages(rctx, 500, nil)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		t.add(msgs)
	}
	return nil
}

// sessionReader reads the session subscription one session (order) at a
// time from sessionWorkers receivers.
type sessionReader struct {
	client   *azservicebus.Client
	sub      string
	t        *tally
	want     map[string]bool
	perOrder map[string]int // events per order: what its session should hold
	opts     *azservicebus.SessionReceiverOptions
}

const sessionWorkers = 16

func (sr sessionReader) read(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make(chan error, sessionWorkers)
	for range sessionWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- sr.worker(ctx)
		}()
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

func (sr sessionReader) worker(ctx context.Context) error {
	for !sr.t.done(sr.want) {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		recv, err := sr.client.AcceptNextSessionForSubscription(actx, topic, sr.sub, sr.opts)
		cancel()
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
				continue
			}
			return err
		}
		err = sr.drain(ctx, recv)
		_ = recv.Close(ctx)
		if err != nil {
			return err
		}
	}
	return nil
}

func isTimeout(err error) bool {
	var sbErr *azservicebus.Error
	return errors.As(err, &sbErr) && sbErr.Code == azservicebus.CodeTimeout
}

// drain reads one session until it has delivered its order's events or
// has nothing more. A duplicate left behind is delivered when the session
// is accepted again, so it is still counted.
func (sr sessionReader) drain(ctx context.Context, recv *azservicebus.SessionReceiver) error {
	want, got := sr.perOrder[recv.SessionID()], 0
	for got < want || want == 0 {
		rctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		msgs, err := recv.ReceiveMessages(rctx, 50, nil)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		sr.t.add(msgs)
		got += len(msgs)
		if len(msgs) == 0 {
			return nil
		}
	}
	return nil
}

func compare(sub string, seen map[string]int, want map[string]bool) []string {
	var bad []string
	for id := range want {
		if n := seen[id]; n != 1 {
			bad = append(bad, fmt.Sprintf("%s: event %s delivered %d times", sub, id, n))
		}
	}
	for id := range seen {
		if !want[id] {
			bad = append(bad, fmt.Sprintf("%s: message %s is no event", sub, id))
		}
	}
	return bad
}

func total(seen map[string]int) int {
	n := 0
	for _, k := range seen {
		n += k
	}
	return n
}

// deadLetterQueues reports messages on the subscriptions' dead-letter queues.
func (r *run) deadLetterQueues(ctx context.Context) []string {
	entities, err := sbemu.Control{URL: r.stack.control}.Entities(ctx)
	if err != nil {
		return []string{"entities: " + err.Error()}
	}
	var bad []string
	for _, sub := range []string{"analytics", "audit"} {
		path := topic + "/Subscriptions/" + sub + "/$DeadLetterQueue"
		if n := entities[path].Messages; n != 0 {
			bad = append(bad, fmt.Sprintf("%s holds %d messages", path, n))
		}
	}
	return bad
}

// checkDeadLetters: the ops API lists no dead letter, after replaying
// what it lists until the list is empty (for at most a minute).
func (r *run) checkDeadLetters(ctx context.Context) Check {
	deadline := time.Now().Add(time.Minute)
	for {
		dls, err := r.shop.deadLetters(ctx)
		if err == nil && len(dls) == 0 {
			return Check{Name: "dead-letter list empty (after replay)", OK: true,
				Detail: fmt.Sprintf("%d replayed during the run", r.report.Replayed)}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return Check{Name: "dead-letter list empty (after replay)",
				Detail: fmt.Sprintf("%d left (err %v) after %d replayed", len(dls), err, r.report.Replayed)}
		}
		r.report.Replayed += r.shop.replay(ctx)
		select { // let replayed stages run before listing again
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
