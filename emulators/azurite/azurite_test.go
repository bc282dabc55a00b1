package azurite

import (
	"context"
	"io"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/servicebus/sbemu"
)

func start(t *testing.T, dataDir string) *Server {
	t.Helper()
	return startLogging(t, dataDir, nil)
}

func startLogging(t *testing.T, dataDir string, log io.Writer) *Server {
	t.Helper()
	root, err := sbemu.RepoRoot()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := Start(ctx, Options{RepoRoot: root, DataDir: dataDir, Log: log})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Stop() })
	return s
}

func putGet(t *testing.T, s *Server, write bool) string {
	t.Helper()
	c, err := azblob.NewClientFromConnectionString(s.ConnectionString(), nil)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if write {
		_, err = c.CreateContainer(ctx, "kept", nil)
		require.NoError(t, err)
		_, err = c.UploadBuffer(ctx, "kept", "b.txt", []byte("kept"), nil)
		require.NoError(t, err)
	}
	resp, err := c.DownloadStream(ctx, "kept", "b.txt", nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func TestStartWithoutPackageSaysWhatToRun(t *testing.T) {
	_, err := Start(context.Background(), Options{RepoRoot: t.TempDir()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "make deps")
}

func TestInMemoryServesBlobsOnLoopbackAndStops(t *testing.T) {
	s := start(t, "")
	for _, svc := range []string{"Blob", "Queue", "Table"} {
		assert.Regexp(t, `^http://127\.0\.0\.1:\d+$`, s.Endpoint(svc), svc)
	}
	assert.True(t, strings.HasPrefix(s.ConnectionString(), "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"))
	assert.Equal(t, "kept", putGet(t, s, true))
	require.NoError(t, s.Stop())
	assert.ErrorIs(t, syscall.Kill(-s.PID(), 0), syscall.ESRCH, "the whole process group is gone")
}

func TestDataDirKeepsBlobsAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	first := start(t, dir)
	putGet(t, first, true)
	require.NoError(t, first.Stop())
	assert.Equal(t, "kept", putGet(t, start(t, dir), false))
}

// TestASecondSignalDoesNotLoseBlobs: Stop signals the process group and
// closes Azurite's stdin, which makes launch.js signal it again; under load
// the second signal arrives while Azurite is saving. Azurite listens for
// the first one only, and the second must not end it before its metadata
// is on disk. Here the second comes once Azurite is surely closing.
func TestASecondSignalDoesNotLoseBlobs(t *testing.T) {
	dir := t.TempDir()
	closing := make(chan struct{})
	first := startLogging(t, dir, &lineWatch{prefix: "azurite: Azurite Blob service is closing", seen: closing})
	putGet(t, first, true)
	require.NoError(t, syscall.Kill(-first.PID(), syscall.SIGTERM))
	select {
	case <-closing: // Azurite's own handler is running: the next signal is a repeat
	case <-time.After(20 * time.Second):
		t.Fatal("azurite did not start closing after SIGTERM")
	}
	require.NoError(t, first.stdin.Close()) // what Stop does too: launch.js signals again
	select {
	case <-first.done:
	case <-time.After(20 * time.Second):
		t.Fatal("azurite still running 20 s after SIGTERM")
	}
	assert.Equal(t, "kept", putGet(t, start(t, dir), false))
}

// lineWatch closes seen the first time a written line starts with prefix.
type lineWatch struct {
	prefix string
	seen   chan struct{}
	once   sync.Once
}

func (w *lineWatch) Write(p []byte) (int, error) {
	if strings.HasPrefix(string(p), w.prefix) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

// TestExitsWhenLauncherGoes checks the orphan guard: when the launcher's
// end of stdin closes (it died), Azurite stops.
func TestExitsWhenLauncherGoes(t *testing.T) {
	s := start(t, "")
	require.NoError(t, s.stdin.Close())
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		t.Fatal("azurite still running after its stdin closed")
	}
}
