package servicebus_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/ordersflow/orderpipeline/emulators/servicebus/sbemu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// durableBroker is an emulator on a data directory that a test can kill -9
// and start again on the same data.
type durableBroker struct {
	t      *testing.T
	config string
	dir    string
	emu    *sbemu.Emulator
	client *azservicebus.Client
}

func newDurableBroker(t *testing.T) *durableBroker {
	b := &durableBroker{t: t, config: writeConfig(t, testConfig()), dir: t.TempDir()}
	b.start()
	t.Cleanup(func() { b.stop() })
	return b
}

func (b *durableBroker) start() {
	b.t.Helper()
	root, err := sbemu.RepoRoot()
	require.NoError(b.t, err)
	ctx, cancel := context.WithTimeout(context.Background(), liveness)
	defer cancel()
	b.emu, err = sbemu.Start(ctx, root, b.config, testLog{b.t}, sbemu.WithDataDir(b.dir), sbemu.WithFaultControl())
	require.NoError(b.t, err)
	b.client, err = azservicebus.NewClientFromConnectionString(b.emu.ConnectionString(), nil)
	require.NoError(b.t, err)
}

func (b *durableBroker) stop() {
	if b.client != nil {
		_ = b.client.Close(context.Background())
	}
	if b.emu != nil {
		require.NoError(b.t, b.emu.Stop())
	}
}

// crash kills the emulator with SIGKILL and starts a new one on the same data.
func (b *durableBroker) crash() {
	b.t.Helper()
	_ = b.client.Close(context.Background())
	require.NoError(b.t, b.emu.Kill())
	b.start()
}

// receiveAndComplete receives (PeekLock) and completes n messages from r.
func receiveAndComplete(t *testing.T, r *azservicebus.Receiver, n int) []string {
	t.Helper()
	var out []string
	for _, m := range receiveN(t, r, n) {
		require.NoError(t, r.CompleteMessage(ctxFor(t), m, nil))
		out = append(out, string(m.Body))
	}
	return out
}

// onDataDirEnv makes startEmulator run the emulator on a data directory.
const onDataDirEnv = "SBEMU_TEST_ON_DATA_DIR"

// TestConformanceOnDataDir runs the conformance suite again with the
// emulator on a data directory: durable mode must behave the same.
func TestConformanceOnDataDir(t *testing.T) {
	if os.Getenv(onDataDirEnv) != "" {
		return // this is the inner run
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^Test(Queue|Sessions|Topics|LocksAndExpiry)$", "-test.count=1")
	cmd.Env = append(os.Environ(), onDataDirEnv+"=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "conformance suite on a data dir:\n%s", out)
	require.Contains(t, string(out), "PASS")
}

func TestCrashKeepsAcknowledgedMessagesExactlyOnce(t *testing.T) {
	b := newDurableBroker(t)
	const n = 300
	s, err := b.client.NewSender("basic", nil)
	require.NoError(t, err)
	batch, err := s.NewMessageBatch(ctxFor(t), nil)
	require.NoError(t, err)
	var want []string
	for i := range n {
		body := fmt.Sprintf("m-%03d", i)
		want = append(want, body)
		require.NoError(t, batch.AddMessage(msg(body), nil))
	}
	require.NoError(t, s.SendMessageBatch(ctxFor(t), batch, nil))
	require.NoError(t, s.SendMessage(ctxFor(t), msg("single"), nil))
	want = append(want, "single")
	// Complete the first 50 before the crash: they must not come back.
	r := newReceiver(t, b.client, "basic", nil)
	done := receiveAndComplete(t, r, 50)
	assert.Equal(t, want[:50], done)
	lastSeq := int64(0)
	for _, p := range peekAll(t, r) {
		lastSeq = max(lastSeq, *p.SequenceNumber)
	}

	b.crash()

	r = newReceiver(t, b.client, "basic", nil)
	got := receiveAndComplete(t, r, n+1-50)
	sort.Strings(got)
	rest := append([]string(nil), want[50:]...)
	sort.Strings(rest)
	assert.Equal(t, rest, got, "every acknowledged, uncompleted message comes back once")
	assert.Empty(t, peekAll(t, r), "and nothing else")

	send(t, b.client, "basic", msg("after"))
	m := receiveN(t, r, 1)[0]
	assert.Greater(t, *m.SequenceNumber, lastSeq, "sequence numbers are not reused after a restart")
	require.NoError(t, r.CompleteMessage(ctxFor(t), m, nil))
}

func TestCrashKeepsDuplicateDetectionHistory(t *testing.T) {
	b := newDurableBroker(t)
	send(t, b.client, "dedupe", &azservicebus.Message{Body: []byte("one"), MessageID: to.Ptr("order-1:OrderPlaced")})
	send(t, b.client, "dedupe-topic", &azservicebus.Message{Body: []byte("event"), MessageID: to.Ptr("order-1:TaxApplied")})

	b.crash()

	send(t, b.client, "dedupe",
		&azservicebus.Message{Body: []byte("dup"), MessageID: to.Ptr("order-1:OrderPlaced")},
		&azservicebus.Message{Body: []byte("two"), MessageID: to.Ptr("order-2:OrderPlaced")})
	send(t, b.client, "dedupe-topic",
		&azservicebus.Message{Body: []byte("event-dup"), MessageID: to.Ptr("order-1:TaxApplied")},
		&azservicebus.Message{Body: []byte("event-2"), MessageID: to.Ptr("order-2:TaxApplied")})
	assert.Equal(t, []string{"one", "two"}, bodies(peekAll(t, newReceiver(t, b.client, "dedupe", nil))),
		"the duplicate sent after the restart is dropped")
	assert.Equal(t, []string{"event", "event-2"}, bodies(peekAll(t, subReceiver(t, b.client, "dedupe-topic", "all", nil))))
}

func TestCrashKeepsScheduledDeferredAndDeadLettered(t *testing.T) {
	b := newDurableBroker(t)
	s, err := b.client.NewSender("basic", nil)
	require.NoError(t, err)
	later, err := s.ScheduleMessages(ctxFor(t), []*azservicebus.Message{msg("later")}, timeIn(3600), nil)
	require.NoError(t, err)
	soon, err := s.ScheduleMessages(ctxFor(t), []*azservicebus.Message{msg("soon")}, timeIn(1.5), nil)
	require.NoError(t, err)
	topicSender, err := b.client.NewSender("fanout", nil)
	require.NoError(t, err)
	_, err = topicSender.ScheduleMessages(ctxFor(t), []*azservicebus.Message{msg("topic-soon")}, timeIn(1.5), nil)
	require.NoError(t, err)
	topicLater, err := topicSender.ScheduleMessages(ctxFor(t), []*azservicebus.Message{msg("topic-later")}, timeIn(3600), nil)
	require.NoError(t, err)
	send(t, b.client, "basic", msg("deferred"), msg("poison"), msg("retried"), msg("held"))
	r := newReceiver(t, b.client, "basic", nil)
	got := receiveN(t, r, 4)
	require.Equal(t, []string{"deferred", "poison", "retried", "held"}, bodies(got))
	require.NoError(t, r.DeferMessage(ctxFor(t), got[0], nil))
	require.NoError(t, r.DeadLetterMessage(ctxFor(t), got[1], &azservicebus.DeadLetterOptions{Reason: to.Ptr("bad-input")}))
	require.NoError(t, r.AbandonMessage(ctxFor(t), got[2], &azservicebus.AbandonMessageOptions{PropertiesToModify: map[string]any{"attempt": "one"}}))

	b.crash()

	r = newReceiver(t, b.client, "basic", nil)
	back := map[string]*azservicebus.ReceivedMessage{}
	for _, m := range receiveN(t, r, 2) {
		back[string(m.Body)] = m
		require.NoError(t, r.CompleteMessage(ctxFor(t), m, nil))
	}
	require.Contains(t, back, "retried")
	require.Contains(t, back, "held")
	assert.EqualValues(t, 2, back["retried"].DeliveryCount, "the delivery count survives")
	assert.Equal(t, "one", back["retried"].ApplicationProperties["attempt"], "properties-to-modify survive")
	assert.EqualValues(t, 2, back["held"].DeliveryCount, "a message locked at the crash comes back with that delivery counted")

	deferred, err := r.ReceiveDeferredMessages(ctxFor(t), []int64{*got[0].SequenceNumber}, nil)
	require.NoError(t, err)
	require.Len(t, deferred, 1)
	assert.Equal(t, "deferred", string(deferred[0].Body))
	require.NoError(t, r.CompleteMessage(ctxFor(t), deferred[0], nil))

	d := receiveN(t, dlqReceiver(t, b.client, "basic"), 1)[0]
	assert.Equal(t, "poison", string(d.Body))
	assert.Equal(t, "bad-input", *d.DeadLetterReason)

	m := receiveN(t, r, 1)[0]
	assert.Equal(t, "soon", string(m.Body), "a scheduled message is enqueued at its time after the restart")
	assert.Equal(t, soon[0], *m.SequenceNumber)
	require.NoError(t, r.CompleteMessage(ctxFor(t), m, nil))
	tm := receiveN(t, subReceiver(t, b.client, "fanout", "a", nil), 1)[0]
	assert.Equal(t, "topic-soon", string(tm.Body), "so is one scheduled on a topic")

	peeked := peekAll(t, r)
	require.Len(t, peeked, 1)
	assert.Equal(t, later[0], *peeked[0].SequenceNumber)
	assert.Equal(t, azservicebus.MessageStateScheduled, peeked[0].State)
	s, err = b.client.NewSender("basic", nil)
	require.NoError(t, err)
	require.NoError(t, s.CancelScheduledMessages(ctxFor(t), later, nil), "and can still be cancelled")
	assert.Empty(t, peekAll(t, r))
	entities, err := b.emu.Entities(ctxFor(t))
	require.NoError(t, err)
	assert.Equal(t, 1, entities["fanout"].Scheduled, "the topic's far scheduled message survived")
	topicSender, err = b.client.NewSender("fanout", nil)
	require.NoError(t, err)
	require.NoError(t, topicSender.CancelScheduledMessages(ctxFor(t), topicLater, nil))
	entities, err = b.emu.Entities(ctxFor(t))
	require.NoError(t, err)
	assert.Zero(t, entities["fanout"].Scheduled)

	b.crash()
	entities, err = b.emu.Entities(ctxFor(t))
	require.NoError(t, err)
	assert.Zero(t, entities["fanout"].Scheduled, "a cancellation is durable too")
	assert.Zero(t, entities["basic"].Scheduled)
}

func TestCrashKeepsSessionState(t *testing.T) {
	b := newDurableBroker(t)
	send(t, b.client, "sessions", sessionMsg("s1", "s1-a"), sessionMsg("s1", "s1-b"))
	sr, err := b.client.AcceptSessionForQueue(ctxFor(t), "sessions", "s1", nil)
	require.NoError(t, err)
	first := receiveN(t, sr, 1)[0]
	require.NoError(t, sr.CompleteMessage(ctxFor(t), first, nil))
	require.NoError(t, sr.SetSessionState(ctxFor(t), []byte(`{"step":1}`), nil))

	b.crash()

	sr, err = b.client.AcceptSessionForQueue(ctxFor(t), "sessions", "s1", nil)
	require.NoError(t, err)
	defer sr.Close(context.Background())
	state, err := sr.GetSessionState(ctxFor(t), nil)
	require.NoError(t, err)
	assert.Equal(t, `{"step":1}`, string(state))
	m := receiveN(t, sr, 1)[0]
	assert.Equal(t, "s1-b", string(m.Body))
	require.NoError(t, sr.CompleteMessage(ctxFor(t), m, nil))
}

func TestGracefulStopKeepsMessagesToo(t *testing.T) {
	b := newDurableBroker(t)
	send(t, b.client, "basic", msg("kept"))
	_ = b.client.Close(context.Background())
	require.NoError(t, b.emu.Stop())
	b.start()
	assert.Equal(t, []string{"kept"}, bodies(peekAll(t, newReceiver(t, b.client, "basic", nil))))
}

func TestWithoutDataDirNothingSurvives(t *testing.T) {
	root, err := sbemu.RepoRoot()
	require.NoError(t, err)
	config := writeConfig(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), liveness)
	defer cancel()
	emu, err := sbemu.Start(ctx, root, config, testLog{t})
	require.NoError(t, err)
	c, err := azservicebus.NewClientFromConnectionString(emu.ConnectionString(), nil)
	require.NoError(t, err)
	send(t, c, "basic", msg("lost"))
	_ = c.Close(context.Background())
	require.NoError(t, emu.Kill())
	c = startEmulator(t, config)
	assert.Empty(t, peekAll(t, newReceiver(t, c, "basic", nil)), "in-memory mode keeps nothing")
}

func TestCrashKeepsForwardedDeadLetters(t *testing.T) {
	b := newDurableBroker(t)
	send(t, b.client, "forward-dlq", msg("doomed"))
	r := newReceiver(t, b.client, "forward-dlq", nil)
	m := receiveN(t, r, 1)[0]
	require.NoError(t, r.AbandonMessage(ctxFor(t), m, nil)) // MaxDeliveryCount 1: dead-lettered into forward-out

	b.crash()

	d := receiveN(t, newReceiver(t, b.client, "forward-out", nil), 1)[0]
	assert.Equal(t, "doomed", string(d.Body))
	assert.Equal(t, "MaxDeliveryCountExceeded", *d.DeadLetterReason)
	require.NotNil(t, d.DeadLetterSource)
	assert.Equal(t, "forward-dlq", *d.DeadLetterSource, "the rewritten annotations were stored")
}

func TestCorruptDataDirStopsStartup(t *testing.T) {
	root, err := sbemu.RepoRoot()
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "servicebus.db"), []byte("this is not a database, only text of sufficient length to be read"), 0o600))
	var logs bytes.Buffer
	e, err := sbemu.Start(ctxFor(t), root, writeConfig(t, testConfig()), &logs, sbemu.WithDataDir(dir))
	if e != nil {
		t.Cleanup(func() { _ = e.Stop() })
	}
	require.Error(t, err)
	assert.Contains(t, logs.String(), "open data dir")
}

// v1Store is a data directory as the emulator's schema version 1 left it:
// the duplicate-detection history keyed by (entity, id) with an index on
// time, holding one id of a queue and one of a topic, and the queue's last
// sequence number.
const v1Store = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1] + '/servicebus.db');
db.pragma('journal_mode = WAL');
db.exec(` + "`" + `
CREATE TABLE messages (entity TEXT NOT NULL, seq INTEGER NOT NULL, raw BLOB NOT NULL, app BLOB, session_id TEXT,
  state TEXT NOT NULL, enqueued_at INTEGER NOT NULL, ttl_ms INTEGER, expires_at INTEGER, delivery_count INTEGER NOT NULL,
  scheduled_at INTEGER NOT NULL, PRIMARY KEY (entity, seq));
CREATE TABLE sequences (entity TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE sessions (entity TEXT NOT NULL, id TEXT NOT NULL, state BLOB NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (entity, id));
CREATE TABLE dedupe (entity TEXT NOT NULL, id TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (entity, id));
CREATE INDEX dedupe_at ON dedupe (entity, at);
PRAGMA user_version = 1;
` + "`" + `);
const remember = db.prepare('INSERT INTO dedupe (entity, id, at) VALUES (?, ?, ?)');
remember.run('dedupe', 'order-1:OrderPlaced', Date.now());
remember.run('dedupe-topic', 'order-1:TaxApplied', Date.now());
db.prepare('INSERT INTO sequences (entity, seq) VALUES (?, ?)').run('dedupe', 41);
db.close();
`

func TestVersion1DataDirIsMigrated(t *testing.T) {
	root, err := sbemu.RepoRoot()
	require.NoError(t, err)
	b := &durableBroker{t: t, config: writeConfig(t, testConfig()), dir: t.TempDir()}
	node := exec.Command("node", "-e", v1Store, b.dir)
	node.Dir = filepath.Join(root, "emulators", "servicebus")
	out, err := node.CombinedOutput()
	require.NoError(t, err, "write a version 1 store: %s", out)
	b.start()
	t.Cleanup(func() { b.stop() })

	send(t, b.client, "dedupe",
		&azservicebus.Message{Body: []byte("dup"), MessageID: to.Ptr("order-1:OrderPlaced")},
		&azservicebus.Message{Body: []byte("two"), MessageID: to.Ptr("order-2:OrderPlaced")})
	send(t, b.client, "dedupe-topic",
		&azservicebus.Message{Body: []byte("event-dup"), MessageID: to.Ptr("order-1:TaxApplied")},
		&azservicebus.Message{Body: []byte("event-2"), MessageID: to.Ptr("order-2:TaxApplied")})
	got := peekAll(t, newReceiver(t, b.client, "dedupe", nil))
	assert.Equal(t, []string{"two"}, bodies(got), "the id remembered by version 1 is still a duplicate")
	require.Len(t, got, 1)
	assert.EqualValues(t, 42, *got[0].SequenceNumber, "sequence numbers go on from version 1's")
	assert.Equal(t, []string{"event-2"}, bodies(peekAll(t, subReceiver(t, b.client, "dedupe-topic", "all", nil))))

	b.crash()
	send(t, b.client, "dedupe", &azservicebus.Message{Body: []byte("dup-again"), MessageID: to.Ptr("order-2:OrderPlaced")})
	assert.Equal(t, []string{"two"}, bodies(peekAll(t, newReceiver(t, b.client, "dedupe", nil))),
		"ids remembered after the migration survive a crash")
}
