package sbemu_test

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
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

func TestKillEndsTheProcessGroup(t *testing.T) {
	root, err := sbemu.RepoRoot()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	e, err := sbemu.Start(ctx, root, filepath.Join(root, "emulators", "servicebus", "config", "orderpipeline.json"), nil,
		sbemu.WithDataDir(t.TempDir()), sbemu.WithFaultControl())
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Stop() })
	assert.Regexp(t, `^Endpoint=sb://127\.0\.0\.1:\d+;`, e.ConnectionString(), "the ready line is still found after the control line")
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+$`, e.ControlURL())
	entities, err := e.Entities(ctx)
	require.NoError(t, err)
	assert.Contains(t, entities, "order-events/Subscriptions/audit")
	require.NoError(t, e.Kill())
	assert.ErrorIs(t, syscall.Kill(-e.PID(), 0), syscall.ESRCH, "the whole process group is gone")
	require.NoError(t, e.Stop(), "Stop after Kill is a no-op")
}

func TestDataDirNeedsTheStore(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "emulators", "servicebus", "node_modules", "rhea"), 0o755))
	_, err := sbemu.Start(context.Background(), root, "config.json", nil, sbemu.WithDataDir(t.TempDir()))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "store missing")
}

// TestStdoutWithControlPort checks the stdout protocol with the control
// endpoint: the control URL line, then the ready line, and nothing else.
func TestStdoutWithControlPort(t *testing.T) {
	root, err := sbemu.RepoRoot()
	require.NoError(t, err)
	dir := filepath.Join(root, "emulators", "servicebus")
	cmd := exec.Command("node", filepath.Join(dir, "src", "main.js"), "--port", "0", "--control-port", "0",
		"--config", filepath.Join(dir, "config", "orderpipeline.json"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })
	done := make(chan []string, 1)
	go func() {
		var lines []string
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if strings.HasPrefix(sc.Text(), "SERVICEBUS_CONNECTION_STRING=") {
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			}
		}
		done <- lines
	}()
	var lines []string
	select {
	case lines = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("emulator did not become ready")
	}
	require.Len(t, lines, 2, "stdout: %q", lines)
	assert.Regexp(t, `^SERVICEBUS_CONTROL_URL=http://127\.0\.0\.1:\d+$`, lines[0])
	assert.Regexp(t, `^SERVICEBUS_CONNECTION_STRING=Endpoint=sb://127\.0\.0\.1:\d+;`, lines[1])
}

// TestRestartOnTheSamePorts kills the emulator and starts it again on the
// ports it had: the connection string and control URL stay the same.
func TestRestartOnTheSamePorts(t *testing.T) {
	root, err := sbemu.RepoRoot()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	config := filepath.Join(root, "emulators", "servicebus", "config", "orderpipeline.json")
	data := t.TempDir()
	first, err := sbemu.Start(ctx, root, config, nil, sbemu.WithDataDir(data), sbemu.WithFaultControl())
	require.NoError(t, err)
	t.Cleanup(func() { _ = first.Stop() })
	port, ctl := portOf(t, first.ConnectionString()), portOf(t, first.ControlURL())
	require.NoError(t, first.Kill())
	select {
	case <-first.Done():
	default:
		require.Fail(t, "Done is closed once the process has exited")
	}
	second, err := sbemu.Start(ctx, root, config, nil, sbemu.WithDataDir(data), sbemu.WithPort(port), sbemu.WithControlPort(ctl))
	require.NoError(t, err)
	t.Cleanup(func() { _ = second.Stop() })
	assert.Equal(t, first.ConnectionString(), second.ConnectionString())
	assert.Equal(t, first.ControlURL(), second.ControlURL())
	_, err = second.Entities(ctx)
	require.NoError(t, err)
}

// portOf is the port in a connection string (sb://host:port;) or URL.
func portOf(t *testing.T, s string) int {
	t.Helper()
	m := regexp.MustCompile(`127\.0\.0\.1:(\d+)`).FindStringSubmatch(s)
	require.NotNil(t, m, s)
	p, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	return p
}
