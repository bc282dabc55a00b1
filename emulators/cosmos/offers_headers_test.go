package cosmos

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestThroughputHeaders(t *testing.T) {
	tests := []struct {
		name         string
		manual, auto string
		want         *throughput
		bad          bool
	}{
		{"none", "", "", nil, false},
		{"manual", "400", "", &throughput{Manual: 400}, false},
		{"autoscale", "", `{"maxThroughput":4000}`, &throughput{AutoMax: 4000}, false},
		{"manual below the minimum", "300", "", nil, true},
		{"manual off the step", "450", "", nil, true},
		{"manual over the limit", "2000000", "", nil, true},
		{"manual not a number", "lots", "", nil, true},
		{"autoscale below the minimum", "", `{"maxThroughput":500}`, nil, true},
		{"autoscale not JSON", "", `4000`, nil, true},
		{"both", "400", `{"maxThroughput":4000}`, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/dbs", nil)
			if tc.manual != "" {
				r.Header.Set(hdrOfferThroughput, tc.manual)
			}
			if tc.auto != "" {
				r.Header.Set(hdrOfferAutoscale, tc.auto)
			}
			got, err := throughputHeaders(r)
			if tc.bad {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestStartRejectsANegativeServerlessLimit(t *testing.T) {
	_, err := Start(Options{ServerlessRUPerSecond: -1})
	assert.Error(t, err)
}
