package sbemu_test

import (
	"bufio"
	"context"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ordersflow/orderpipeline/emulators/servicebus/sbemu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStartWithoutNodeModulesSaysWhatToRun(t *testing.T) {
	_, err := sbemu.Start(context.Background(), t.TempDir(), "config.json", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "run: npm --prefix emulators/servicebus ci")
}

func TestStartAndStop(t *testing.T) {
	root, err := sbemu.RepoRoot()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	e, err := sbemu.Start(ctx, root, filepath.Join(root, "emulators", "servicebus", "config", "orderpipeline.json"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Stop() })
	assert.Regexp(t, `^Endpoint=sb://127\.0\.0\.1:\d+;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;$`, e.ConnectionString())
	require.NoError(t, e.Stop())
	assert.ErrorIs(t, syscall.Kill(-e.PID(), 0), syscall.ESRCH, "the whole process group is gone")
}

func TestCPUProfileWrittenOnStop(t *testing.T) {
	root, err := sbemu.RepoRoot()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dir := t.TempDir()
	e, err := sbemu.Start(ctx, root, filepath.Join(root, "emulators", "servicebus", "config", "orderpipeline.json"), nil, sbemu.WithCPUProfile(dir))
	require.NoError(t, err)
	require.NoError(t, e.Stop())
	profiles, err := filepath.Glob(filepath.Join(dir, "*.cpuprofile"))
	require.NoError(t, err)
	assert.Len(t, profiles, 1)
}

// TestNpmStartStdout checks the documented command prints exactly the
// connection string line on stdout, even without --silent.
func TestNpmStartStdout(t *testing.T) {
	root, err := sbemu.RepoRoot()
	require.NoError(t, err)
	cmd := exec.Command("npm", "--prefix", "emulators/servicebus", "start", "--", "--port", "0", "--config", "emulators/servicebus/config/orderpipeline.json")
	cmd.Dir = root
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	done := make(chan []string, 1)
	go func() {
		var lines []string
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if strings.HasPrefix(sc.Text(), "SERVICEBUS_CONNECTION_STRING=") {
				// stop once ready; anything printed before this line is a failure
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		done <- lines
	}()
	var lines []string
	select {
	case lines = <-done:
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		t.Fatal("emulator did not become ready")
	}
	_ = cmd.Wait()
	require.Len(t, lines, 1, "stdout: %q", lines)
	assert.Regexp(t, `^SERVICEBUS_CONNECTION_STRING=Endpoint=sb://127\.0\.0\.1:\d+;`, lines[0])
}

// TestEmulatorExitsWhenLauncherGoes checks the orphan guard sbemu relies on:
// with --exit-when-stdin-closes the emulator stops once its stdin closes.
func TestEmulatorExitsWhenLauncherGoes(t *testing.T) {
	root, err := sbemu.RepoRoot()
	require.NoError(t, err)
	dir := filepath.Join(root, "emulators", "servicebus")
	cmd := exec.Command("node", filepath.Join(dir, "src", "main.js"), "--port", "0",
		"--config", filepath.Join(dir, "config", "orderpipeline.json"), "--exit-when-stdin-closes")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(line, "SERVICEBUS_CONNECTION_STRING="))

	require.NoError(t, stdin.Close())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("emulator still running after its stdin closed")
	}
}
