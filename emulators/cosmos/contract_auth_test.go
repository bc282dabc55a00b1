package cosmos_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestContractWrongKeyIsUnauthorized(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		wrong := newClient(t, e.target, base64.StdEncoding.EncodeToString([]byte("not the account key at all, no")))
		_, err := wrong.CreateDatabase(testCtx(t), azcosmos.DatabaseProperties{ID: "never-" + randomID()}, nil)
		assert.Equal(t, http.StatusUnauthorized, statusOf(err))

		wc, err := wrong.NewContainer(e.db.ID(), c.ID())
		require.NoError(t, err)
		_, err = wc.ReadItem(testCtx(t), azcosmos.NewPartitionKeyString("o1"), "a", nil)
		assert.Equal(t, http.StatusUnauthorized, statusOf(err))
	})
}

func TestContractMissingSignatureIsUnauthorized(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		req, err := http.NewRequestWithContext(testCtx(t), http.MethodGet, e.endpoint+"dbs/"+e.db.ID(), nil)
		require.NoError(t, err)
		req.Header.Set("x-ms-version", "2020-07-15")
		resp, err := e.http.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		var body map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		assert.Equal(t, "Unauthorized", body["code"])
		assert.NotEmpty(t, body["message"])
	})
}
