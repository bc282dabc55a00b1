package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProfilingIsOffByDefault(t *testing.T) {
	var out strings.Builder
	stop, err := profiling{}.start(&out)
	require.NoError(t, err)
	stop()
	assert.Empty(t, out.String())
	assert.Nil(t, profiling{}.handlerSettings())
}

func TestProfilingServesAndAnnounces(t *testing.T) {
	var out strings.Builder
	stop, err := profiling{addr: "127.0.0.1:0"}.start(&out)
	require.NoError(t, err)
	defer stop()
	url, ok := strings.CutPrefix(strings.TrimSpace(out.String()), "PPROF=")
	require.True(t, ok, out.String())
	resp, err := http.Get(url)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestHandlerProfilingIsAnAppSetting(t *testing.T) {
	assert.Equal(t, map[string]string{"PPROF_ADDR": "127.0.0.1:6061"}, profiling{handlerAddr: "127.0.0.1:6061"}.handlerSettings())
}
