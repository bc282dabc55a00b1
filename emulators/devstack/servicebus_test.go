package devstack

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/servicebus/sbemu"
)

func TestPortIn(t *testing.T) {
	assert.Equal(t, 5672, portIn("sb://127.0.0.1:5672;SharedAccessKeyName=x;"))
	assert.Equal(t, 41000, portIn("http://127.0.0.1:41000"))
	assert.Equal(t, 0, portIn("sb://127.0.0.1;"))
}

// TestServiceBusComesBackAfterKill kills the stack's Service Bus emulator
// as a crash would: the stack starts it again on the same port, control
// port and data.
func TestServiceBusComesBackAfterKill(t *testing.T) {
	root, err := sbemu.RepoRoot()
	require.NoError(t, err)
	o := Options{RepoRoot: root, DataDir: t.TempDir(), ServiceBusFaultControl: true,
		ServiceBusConfig: filepath.Join(root, "emulators", "servicebus", "config", "orderpipeline.json")}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st := &Stack{}
	require.NoError(t, st.startServiceBus(ctx, o))
	t.Cleanup(func() { _ = st.bus.stop() })
	conn, control, pid := st.busConnection, st.ServiceBusControlURL(), st.ServiceBusPID()
	require.NotEmpty(t, control)

	require.NoError(t, st.bus.current().Kill())
	require.Eventually(t, func() bool { return st.ServiceBusRestarts() == 1 }, 30*time.Second, 20*time.Millisecond)
	bus := st.bus.current()
	assert.NotEqual(t, pid, bus.PID())
	assert.Equal(t, conn, bus.ConnectionString(), "the handler's connection string stays valid")
	assert.Equal(t, control, bus.ControlURL())
	_, err = bus.Entities(ctx)
	require.NoError(t, err)

	require.NoError(t, st.bus.stop())
	require.NoError(t, st.bus.stop(), "a second Close stops nothing twice")
	assert.Equal(t, 1, st.ServiceBusRestarts(), "a stop is no crash: nothing restarts")
}
