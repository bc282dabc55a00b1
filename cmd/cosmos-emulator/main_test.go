package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
)

// The tests run the emulator as a child process: the test binary itself,
// re-executed with childEnv set, runs realMain.
const childEnv = "COSMOS_EMULATOR_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := realMain(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// child is a running emulator process.
type child struct {
	cmd      *exec.Cmd
	endpoint string
	lines    *bufio.Scanner
}

func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	c := &child{cmd: cmd, lines: bufio.NewScanner(out)}
	t.Cleanup(func() { c.kill() })
	require.True(t, c.lines.Scan(), "the emulator announces its endpoint")
	line := c.lines.Text()
	require.True(t, strings.HasPrefix(line, "COSMOS_ENDPOINT="), line)
	c.endpoint = strings.TrimPrefix(line, "COSMOS_ENDPOINT=")
	return c
}

// kill sends SIGKILL to the child by PID and reaps it.
func (c *child) kill() {
	if c.cmd.ProcessState == nil {
		_ = syscall.Kill(c.cmd.Process.Pid, syscall.SIGKILL)
		_ = c.cmd.Wait()
	}
}

func (c *child) client(t *testing.T) *azcosmos.Client {
	t.Helper()
	client, err := azcosmos.NewClientFromConnectionString("AccountEndpoint="+c.endpoint+";AccountKey="+cosmos.DefaultKey+";", nil)
	require.NoError(t, err)
	return client
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSignalShutsDownCleanly(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			c := startChild(t, "-addr", "127.0.0.1:0", "-data", t.TempDir())
			require.NoError(t, syscall.Kill(c.cmd.Process.Pid, sig))
			require.NoError(t, c.cmd.Wait(), "exit status 0")
			require.False(t, c.lines.Scan(), "nothing after the endpoint line on stdout")
		})
	}
}

func TestTLSAndKeyFlags(t *testing.T) {
	dir := t.TempDir()
	key := "dGVzdCBrZXkgZm9yIHRoZSBjb3Ntb3MgZW11bGF0b3I="
	c := startChild(t, "-addr", "127.0.0.1:0", "-data", dir, "-tls", "-key", key)
	require.True(t, strings.HasPrefix(c.endpoint, "https://127.0.0.1:"), c.endpoint)
	_, err := os.Stat(dir + "/" + cosmos.CertFileName)
	require.NoError(t, err, "the self-signed certificate is written into the data directory")
}

func TestCertFlags(t *testing.T) {
	// A first run writes a self-signed pair; a second serves it via -cert/-certkey.
	dir := t.TempDir()
	first := startChild(t, "-addr", "127.0.0.1:0", "-data", dir, "-tls")
	first.kill()
	certFile, keyFile := filepath.Join(dir, cosmos.CertFileName), filepath.Join(dir, cosmos.KeyFileName)
	c := startChild(t, "-addr", "127.0.0.1:0", "-tls", "-cert", certFile, "-certkey", keyFile)

	pemBytes, err := os.ReadFile(certFile)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pemBytes))
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	opts := &azcosmos.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: hc}}
	client, err := azcosmos.NewClientFromConnectionString("AccountEndpoint="+c.endpoint+";AccountKey="+cosmos.DefaultKey+";", opts)
	require.NoError(t, err)
	_, err = client.CreateDatabase(testCtx(t), azcosmos.DatabaseProperties{ID: "tls"}, nil)
	require.NoError(t, err, "the SDK trusts the certificate given with -cert")
}

func TestRejectsUnknownFlags(t *testing.T) {
	err := realMain(context.Background(), []string{"-nope"}, os.Stdout, &strings.Builder{})
	require.Error(t, err)
}
