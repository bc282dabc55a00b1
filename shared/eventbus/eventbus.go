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

// Publish sends events in order. A failure to reach or send to the broker
// is order.ErrUnavailable: retrying is safe because the broker deduplicates
// by MessageID. An event that can't be encoded or is larger than a message
// may be is order.ErrPermanent: no retry would send it.
func (p *Publisher) Publish(ctx context.Context, events []order.Event) error {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	batch, err := p.sender.NewMessageBatch(ctx, nil)
	if err != nil {
		return unavailable("open message batch", err)
	}
	for _, ev := range events {
		msg, err := Message(ev)
		if err != nil {
			return err
		}
		if batch, err = p.add(ctx, batch, msg); err != nil {
			return err
		}
	}
	return p.flush(ctx, batch)
}

// add puts msg in batch, sending the batch first if msg doesn't fit.
func (p *Publisher) add(ctx context.Context, b *azservicebus.MessageBatch, msg *azservicebus.Message) (*azservicebus.MessageBatch, error) {
	err := b.AddMessage(msg, nil)
	if !errors.Is(err, azservicebus.ErrMessageTooLarge) {
		if err != nil {
			return nil, fmt.Errorf("add %s to batch: %v: %w", *msg.MessageID, err, order.ErrPermanent)
		}
		return b, nil
	}
	if b.NumMessages() == 0 {
		return nil, fmt.Errorf("event %s is larger than a message may be: %w", *msg.MessageID, order.ErrPermanent)
	}
	if err := p.flush(ctx, b); err != nil {
		return nil, err
	}
	next, err := p.sender.NewMessageBatch(ctx, nil)
	if err != nil {
		return nil, unavailable("open message batch", err)
	}
	return p.add(ctx, next, msg)
}

func (p *Publisher) flush(ctx context.Context, b *azservicebus.MessageBatch) error {
	if b.NumMessages() == 0 {
		return nil
	}
	if err := p.sender.SendMessageBatch(ctx, b, nil); err != nil {
		return unavailable(fmt.Sprintf("send batch of %d messages", b.NumMessages()), err)
	}
	return nil
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
