package main

import (
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPprofIsOffUnlessAsked(t *testing.T) {
	stop, err := startPprof("", zerolog.Nop())
	require.NoError(t, err)
	stop()
}

func TestPprofServesOnTheAddressGiven(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	stop, err := startPprof(addr, zerolog.Nop())
	require.NoError(t, err)
	defer stop()
	resp, err := http.Get("http://" + addr + "/debug/pprof/cmdline")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.NotEmpty(t, body)
}

func TestPprofRefusesAnAddressOffLoopback(t *testing.T) {
	_, err := startPprof("0.0.0.0:0", zerolog.Nop())
	require.Error(t, err)
	assert.Contains(t, err.Error(), pprofAddrEnv)
}
