package pprofhttp

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServesTheIndexOnLoopback(t *testing.T) {
	s, err := Start("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	resp, err := http.Get("http://" + s.Addr() + "/debug/pprof/")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), "goroutine")
}

func TestRefusesAddressesOffLoopback(t *testing.T) {
	for _, addr := range []string{":6060", "0.0.0.0:6060", "example.com:6060", "6060"} {
		t.Run(addr, func(t *testing.T) {
			_, err := Start(addr)
			assert.Error(t, err)
		})
	}
}
