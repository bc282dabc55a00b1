// Package eventbus publishes order events to a Service Bus topic with the
// azservicebus SDK, as CloudEvents 1.0 JSON.
//
// Each message carries MessageID = event id, so the broker's duplicate
// detection drops a redelivered event; SessionID = order id, so a session
// receiver sees one order's events in order; Subject = event type; the
// correlation id; application properties eventType, orderId and seq; and,
// when the event carries a trace context, traceparent and Diagnostic-Id, so
// a consumer's spans join the order's trace.
//
// One invocation's events go out in as few message batches as fit. The topic
// is not partitioned, so one batch may carry several sessions.
package eventbus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/messaging"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// Source is the CloudEvents source of every event.
const Source = "/orderpipeline/orders"

// Sender is the part of *azservicebus.Sender the publisher uses.
type Sender interface {
	NewMessageBatch(ctx context.Context, o *azservicebus.MessageBatchOptions) (*azservicebus.MessageBatch, error)
	SendMessageBatch(ctx context.Context, b *azservicebus.MessageBatch, o *azservicebus.SendMessageBatchOptions) error
}

// Publisher sends order events to one topic.
type Publisher struct {
	sender  Sender
	timeout time.Duration
}

// New returns a publisher over sender (one per topic, reused for the life
// of the process).
func New(sender Sender) (*Publisher, error) {
	if sender == nil {
		return nil, errors.New("eventbus: nil sender")
	}
	return &Publisher{sender: sender, timeout: 30 * time.Second}, nil
}

// Publish sends the events of several orders, each inner slice one order's
// events in order, in as few message batches as fit, one batch after the
// other, and says for each order what became of its events.
//
// An event that can't be encoded, or is larger than a message may be, is
// order.ErrPermanent for its order alone: none of that order's events is
// added after it (an event that can't be encoded keeps the whole order out)
// and the other orders go on. A failure to reach or send to the broker is
// order.ErrUnavailable for every order not yet wholly sent, and nothing is
// sent after it, so no order's later event goes out before an earlier one.
// Retrying is safe: the broker deduplicates by MessageID.
//
// One batch may carry several orders, that is several SessionIDs: the topic
// is not partitioned (infra/modules/servicebus.bicep). On a partitioned
// entity the SessionID is the partition key and the messages of one batch
// must all go to one partition, so there each order would need a batch of
// its own.
func (p *Publisher) Publish(ctx context.Context, orders [][]order.Event) []order.Published {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	s := &sending{p: p, out: make([]order.Published, len(orders))}
	for i, events := range orders {
		err := s.addOrder(ctx, i, events)
		if errors.Is(err, order.ErrPermanent) {
			s.out[i].Err = err
			continue
		}
		if err != nil {
			return s.fail(orders, err)
		}
	}
	if err := s.flush(ctx); err != nil {
		return s.fail(orders, err)
	}
	return s.out
}

// sending is one Publish call: the batch being filled, which order each of
// its messages belongs to, and what has been sent so far.
type sending struct {
	p      *Publisher
	batch  *azservicebus.MessageBatch
	owners []int // the order (index) of each message in batch
	out    []order.Published
}

// addOrder encodes one order's events and adds them to the batch, sending
// the batch whenever the next message doesn't fit.
func (s *sending) addOrder(ctx context.Context, i int, events []order.Event) error {
	msgs := make([]*azservicebus.Message, len(events))
	for k, ev := range events {
		msg, err := Message(ev)
		if err != nil {
			return err
		}
		msgs[k] = msg
	}
	for _, msg := range msgs {
		if err := s.add(ctx, i, msg); err != nil {
			return err
		}
	}
	return nil
}

// add puts msg of order i in the batch, sending the batch first if msg
// doesn't fit.
func (s *sending) add(ctx context.Context, i int, msg *azservicebus.Message) error {
	if s.batch == nil {
		b, err := s.p.sender.NewMessageBatch(ctx, nil)
		if err != nil {
			return unavailable("open message batch", err)
		}
		s.batch = b
	}
	err := s.batch.AddMessage(msg, nil)
	switch {
	case err == nil:
		s.owners = append(s.owners, i)
		return nil
	case !errors.Is(err, azservicebus.ErrMessageTooLarge):
		return fmt.Errorf("add %s to batch: %v: %w", *msg.MessageID, err, order.ErrPermanent)
	case len(s.owners) == 0:
		return fmt.Errorf("event %s is larger than a message may be: %w", *msg.MessageID, order.ErrPermanent)
	}
	if err := s.flush(ctx); err != nil {
		return err
	}
	return s.add(ctx, i, msg)
}

// flush sends the batch, if it holds anything, and counts its messages as
// sent for their orders.
func (s *sending) flush(ctx context.Context) error {
	if len(s.owners) == 0 {
		return nil
	}
	if err := s.p.sender.SendMessageBatch(ctx, s.batch, nil); err != nil {
		return unavailable(fmt.Sprintf("send batch of %d messages", len(s.owners)), err)
	}
	for _, i := range s.owners {
		s.out[i].Sent++
	}
	s.batch, s.owners = nil, s.owners[:0]
	return nil
}

// fail gives err to every order that has events not yet sent and no
// failure of its own.
func (s *sending) fail(orders [][]order.Event, err error) []order.Published {
	for i, events := range orders {
		if s.out[i].Err == nil && s.out[i].Sent < len(events) {
			s.out[i].Err = err
		}
	}
	return s.out
}

func unavailable(what string, err error) error {
	return fmt.Errorf("%s: %v: %w", what, err, order.ErrUnavailable)
}

// Message renders an event as a Service Bus message whose body is the
// event as a CloudEvents 1.0 JSON document.
func Message(ev order.Event) (*azservicebus.Message, error) {
	contentType, subject, at := "application/json", ev.OrderID, ev.At
	ce, err := messaging.NewCloudEvent(Source, "orderpipeline."+string(ev.Type), ev.Data,
		&messaging.CloudEventOptions{DataContentType: &contentType, Subject: &subject, Time: &at,
			Extensions: map[string]any{"correlationid": ev.CorrelationID, "sequence": fmt.Sprint(ev.Seq)}})
	if err != nil {
		return nil, fmt.Errorf("build cloud event %s: %v: %w", ev.ID, err, order.ErrPermanent)
	}
	ce.ID = ev.ID
	body, err := ce.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encode cloud event %s: %v: %w", ev.ID, err, order.ErrPermanent)
	}
	eventType, id, sessionID, corr := string(ev.Type), ev.ID, ev.OrderID, ev.CorrelationID
	props := map[string]any{"eventType": eventType, "orderId": ev.OrderID, "seq": int64(ev.Seq)}
	if ev.TraceParent != "" {
		// Both names: traceparent is the W3C one, Diagnostic-Id the one
		// older Azure SDK consumers read (in the traceparent format).
		props["traceparent"], props["Diagnostic-Id"] = ev.TraceParent, ev.TraceParent
	}
	return &azservicebus.Message{
		MessageID: &id, SessionID: &sessionID, Subject: &eventType, CorrelationID: &corr,
		ContentType: &contentType, Body: body, ApplicationProperties: props,
	}, nil
}
