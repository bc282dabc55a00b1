package servicebus_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/ordersflow/orderpipeline/emulators/servicebus/sbemu"
	"github.com/stretchr/testify/require"
)

func TestSmoke(t *testing.T) {
	root, err := sbemu.RepoRoot()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e, err := sbemu.Start(ctx, root, root+"/emulators/servicebus/config/test.json", os.Stderr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Stop() })
	c, err := azservicebus.NewClientFromConnectionString(e.ConnectionString(), nil)
	require.NoError(t, err)
	s, err := c.NewSender("q", nil)
	require.NoError(t, err)
	require.NoError(t, s.SendMessage(ctx, &azservicebus.Message{Body: []byte("hello")}, nil))
	r, err := c.NewReceiverForQueue("q", nil)
	require.NoError(t, err)
	msgs, err := r.ReceiveMessages(ctx, 1, nil)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	t.Logf("%s seq=%d dc=%d locked=%v", msgs[0].Body, *msgs[0].SequenceNumber, msgs[0].DeliveryCount, msgs[0].LockedUntil)
	require.NoError(t, r.CompleteMessage(ctx, msgs[0], nil))
}
