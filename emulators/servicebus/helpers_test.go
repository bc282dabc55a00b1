package servicebus_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/Azure/go-amqp"
	"github.com/ordersflow/orderpipeline/emulators/servicebus/sbemu"
	"github.com/stretchr/testify/require"
)

// liveness bounds every wait in the suite; nothing asserts on elapsed time.
const liveness = 20 * time.Second

type props map[string]any

type entity struct {
	Name          string   `json:"Name"`
	Properties    props    `json:"Properties"`
	Subscriptions []entity `json:"Subscriptions,omitempty"`
	Rules         []props  `json:"Rules,omitempty"`
}

func queue(name string, p props) entity {
	base := props{
		"DeadLetteringOnMessageExpiration": false, "DefaultMessageTimeToLive": "PT1H",
		"DuplicateDetectionHistoryTimeWindow": "PT20S", "LockDuration": "PT1M", "MaxDeliveryCount": 10,
		"RequiresDuplicateDetection": false, "RequiresSession": false, "ForwardTo": "", "ForwardDeadLetteredMessagesTo": "",
	}
	for k, v := range p {
		base[k] = v
	}
	return entity{Name: name, Properties: base}
}

// testConfig is a Microsoft emulator Config.json with one entity per feature.
func testConfig() map[string]any {
	queues := []entity{
		queue("basic", nil),
		queue("short-lock", props{"LockDuration": "PT1S"}),
		queue("max-delivery", props{"MaxDeliveryCount": 2}),
		queue("ttl-dlq", props{"DeadLetteringOnMessageExpiration": true}),
		queue("ttl-drop", props{"DefaultMessageTimeToLive": "PT0.3S"}),
		queue("dedupe", props{"RequiresDuplicateDetection": true, "DuplicateDetectionHistoryTimeWindow": "PT10M"}),
		queue("sessions", props{"RequiresSession": true, "LockDuration": "PT2S"}),
		queue("forward-in", props{"ForwardTo": "forward-out"}),
		queue("forward-dlq", props{"ForwardDeadLetteredMessagesTo": "forward-out", "MaxDeliveryCount": 1}),
		queue("forward-out", nil),
	}
	sub := func(name string, rules ...props) entity {
		e := queue(name, nil)
		delete(e.Properties, "DuplicateDetectionHistoryTimeWindow")
		delete(e.Properties, "RequiresDuplicateDetection")
		e.Rules = rules
		return e
	}
	forwarding := sub("to-queue", props{"Name": "blue-only", "Properties": props{"FilterType": "Sql", "SqlFilter": props{"SqlExpression": "color = 'blue'"}}})
	forwarding.Properties["ForwardTo"] = "forward-out"
	red := props{"Name": "red-only", "Properties": props{"FilterType": "Correlation", "CorrelationFilter": props{"Properties": props{"color": "red"}}}}
	topics := []entity{{
		Name:          "fanout",
		Properties:    props{"DefaultMessageTimeToLive": "PT1H", "DuplicateDetectionHistoryTimeWindow": "PT20S", "RequiresDuplicateDetection": false},
		Subscriptions: []entity{sub("a"), sub("b"), sub("red", red), forwarding},
	}, {
		Name:          "dedupe-topic",
		Properties:    props{"DefaultMessageTimeToLive": "PT1H", "DuplicateDetectionHistoryTimeWindow": "PT10M", "RequiresDuplicateDetection": true},
		Subscriptions: []entity{sub("all")},
	}}
	return map[string]any{"UserConfig": map[string]any{
		"Namespaces": []any{map[string]any{"Name": "sbemulatorns", "Queues": queues, "Topics": topics}},
		"Logging":    map[string]any{"Type": "File"},
	}}
}

func writeConfig(t *testing.T, doc any) string {
	t.Helper()
	b, err := json.MarshalIndent(doc, "", "  ")
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "Config.json")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return path
}

// startEmulator starts an emulator for this test only and returns a client for it.
func startEmulator(t *testing.T, configPath string) *azservicebus.Client {
	t.Helper()
	_, client := startEmulatorWith(t, configPath)
	return client
}

// startEmulatorWith is startEmulator with launcher options, returning the emulator too.
func startEmulatorWith(t *testing.T, configPath string, opts ...sbemu.Option) (*sbemu.Emulator, *azservicebus.Client) {
	t.Helper()
	root, err := sbemu.RepoRoot()
	require.NoError(t, err)
	if configPath == "" {
		configPath = writeConfig(t, testConfig())
	}
	ctx, cancel := context.WithTimeout(context.Background(), liveness)
	defer cancel()
	if os.Getenv(onDataDirEnv) != "" {
		opts = append(opts, sbemu.WithDataDir(t.TempDir()))
	}
	emu, err := sbemu.Start(ctx, root, configPath, testLog{t}, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, emu.Stop()) })
	client, err := azservicebus.NewClientFromConnectionString(emu.ConnectionString(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close(context.Background()) })
	return emu, client
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	if os.Getenv("SBEMU_VERBOSE") != "" {
		l.t.Logf("%s", p)
	}
	return len(p), nil
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), liveness)
	t.Cleanup(cancel)
	return ctx
}

func send(t *testing.T, c *azservicebus.Client, entity string, msgs ...*azservicebus.Message) {
	t.Helper()
	s, err := c.NewSender(entity, nil)
	require.NoError(t, err)
	defer s.Close(context.Background())
	for _, m := range msgs {
		require.NoError(t, s.SendMessage(ctxFor(t), m, nil))
	}
}

type receiver interface {
	ReceiveMessages(ctx context.Context, maxMessages int, options *azservicebus.ReceiveMessagesOptions) ([]*azservicebus.ReceivedMessage, error)
}

// receiveN receives exactly n messages (waiting as long as liveness allows).
func receiveN(t *testing.T, r receiver, n int) []*azservicebus.ReceivedMessage {
	t.Helper()
	ctx := ctxFor(t)
	var got []*azservicebus.ReceivedMessage
	for len(got) < n {
		msgs, err := r.ReceiveMessages(ctx, n-len(got), nil)
		require.NoError(t, err, "received %d of %d", len(got), n)
		got = append(got, msgs...)
	}
	require.Len(t, got, n)
	return got
}

func newReceiver(t *testing.T, c *azservicebus.Client, queueName string, opts *azservicebus.ReceiverOptions) *azservicebus.Receiver {
	t.Helper()
	r, err := c.NewReceiverForQueue(queueName, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	return r
}

func dlqReceiver(t *testing.T, c *azservicebus.Client, queueName string) *azservicebus.Receiver {
	return newReceiver(t, c, queueName, &azservicebus.ReceiverOptions{SubQueue: azservicebus.SubQueueDeadLetter})
}

func peekAll(t *testing.T, r interface {
	PeekMessages(ctx context.Context, maxMessageCount int, options *azservicebus.PeekMessagesOptions) ([]*azservicebus.ReceivedMessage, error)
}) []*azservicebus.ReceivedMessage {
	t.Helper()
	from := int64(0)
	msgs, err := r.PeekMessages(ctxFor(t), 1000, &azservicebus.PeekMessagesOptions{FromSequenceNumber: &from})
	require.NoError(t, err)
	return msgs
}

func requireCode(t *testing.T, err error, code azservicebus.Code) {
	t.Helper()
	require.Error(t, err)
	var sbErr *azservicebus.Error
	require.True(t, errors.As(err, &sbErr), "want *azservicebus.Error with code %s, got %T: %v", code, err, err)
	require.Equal(t, code, sbErr.Code, "error: %v", err)
}

func msg(body string) *azservicebus.Message {
	return &azservicebus.Message{Body: []byte(body)}
}

func bodies(msgs []*azservicebus.ReceivedMessage) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = string(m.Body)
	}
	return out
}

func timeIn(seconds float64) time.Time {
	return time.Now().Add(time.Duration(seconds * float64(time.Second)))
}

// requireCondition checks the AMQP error condition the broker reported (the
// SDK passes link-level refusals such as amqp:not-found through unchanged).
func requireCondition(t *testing.T, err error, condition string) {
	t.Helper()
	require.Error(t, err)
	var amqpErr *amqp.Error
	require.True(t, errors.As(err, &amqpErr), "want *amqp.Error %s, got %T: %v", condition, err, err)
	require.Equal(t, amqp.ErrCond(condition), amqpErr.Condition, "error: %v", err)
}
