package funchost

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// .NET's Marvin test vectors (seed 0x004FB61A001BDBCC), folded to 32 bits
// as ComputeHash32 does: one per tail length.
func TestMarvinMatchesDotNet(t *testing.T) {
	for in, want := range map[string]uint32{
		"af":       0x48E73FC7 ^ 0x7D75DDC1,
		"e70f":     0xB5F6E1FC ^ 0x485DBFF8,
		"37f495":   0xF0B07C78 ^ 0x9B8CF7E8,
		"8642dc59": 0x7008F2E8 ^ 0x7E9CF556,
	} {
		b, err := hex.DecodeString(in)
		require.NoError(t, err)
		assert.Equal(t, want, marvin32(b, 0x004FB61A001BDBCC), in)
	}
}

var keyShape = regexp.MustCompile(`^[A-Za-z0-9_-]{44}AzFu[A-Za-z0-9_-]{5}[AQgw]==$`)

func TestKeysHaveTheHostsShape(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		k := newKeyValue(functionKeySeed)
		require.Regexp(t, keyShape, k)
		require.True(t, validKeyValue(k, functionKeySeed))
		assert.False(t, validKeyValue(k, masterKeySeed), "the checksum binds the key to its kind")
		assert.False(t, seen[k])
		seen[k] = true
	}
	k := []byte(newKeyValue(masterKeySeed))
	k[3] ^= 1
	assert.False(t, validKeyValue(string(k), masterKeySeed), "a changed character breaks the checksum")
}

func TestHostIDIsDerivedLikeTheHost(t *testing.T) {
	s := &appSettings{getenv: func(string) (string, bool) { return "", false }}
	id := hostID(s, "/work/app")
	assert.Regexp(t, `^[a-z0-9]*-\d+$`, id)
	assert.LessOrEqual(t, len(id), 32)
	assert.Equal(t, id, hostID(s, "/work/app"), "stable")
	assert.NotEqual(t, id, hostID(s, "/work/app2"))
	assert.Equal(t, int32(23*31+'a'), stableHash("a"))
	s.overrides = map[string]string{settingHostID: "my-host"}
	assert.Equal(t, "my-host", hostID(s, "/work/app"))
}

var authFunctions = map[string]string{
	"Open":  `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"anonymous","methods":["get"],"route":"open"},{"type":"http","direction":"out","name":"res"}]}`,
	"Fn":    `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"function","methods":["get"],"route":"fn/{id}"},{"type":"http","direction":"out","name":"res"}]}`,
	"Other": `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","methods":["get"],"route":"other"},{"type":"http","direction":"out","name":"res"}]}`,
	"Adm":   `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"admin","methods":["get"],"route":"adm"},{"type":"http","direction":"out","name":"res"}]}`,
}

func TestAuthLevels(t *testing.T) {
	rl := newRelay(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h, _ := startHost(t, stageApp(t, forwardingHostJSON, authFunctions, nil), rl, nil)
	fnKey, otherKey, master := h.FunctionKey("Fn"), h.FunctionKey("Other"), h.MasterKey()
	hostKey := readHostSecrets(t, h).FunctionKeys[0].Value
	require.NotEmpty(t, fnKey)
	require.NotEqual(t, fnKey, otherKey)

	tests := []struct {
		name, path, header string
		want               int
	}{
		{"anonymous needs nothing", "/api/open", "", http.StatusTeapot},
		{"function without key", "/api/fn/1", "", http.StatusUnauthorized},
		{"function with its key in the header", "/api/fn/1", fnKey, http.StatusTeapot},
		{"function with its key in code", "/api/fn/1?code=" + url.QueryEscape(fnKey), "", http.StatusTeapot},
		{"function with a wrong key", "/api/fn/1", fnKey[:len(fnKey)-3] + "x==", http.StatusUnauthorized},
		{"function with another function's key", "/api/fn/1", otherKey, http.StatusUnauthorized},
		{"default authLevel is function", "/api/other", "", http.StatusUnauthorized},
		{"host key opens every function", "/api/other", hostKey, http.StatusTeapot},
		{"host key opens Fn too", "/api/fn/1", hostKey, http.StatusTeapot},
		{"master key opens functions", "/api/fn/1", master, http.StatusTeapot},
		{"admin without key", "/api/adm", "", http.StatusUnauthorized},
		{"admin with a function key", "/api/adm", fnKey, http.StatusUnauthorized},
		{"admin with the host key", "/api/adm", hostKey, http.StatusUnauthorized},
		{"admin with the master key", "/api/adm", master, http.StatusTeapot},
		{"admin API with a host key", "/admin/functions", hostKey, http.StatusUnauthorized},
		{"admin API with the master key", "/admin/functions", master, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tc.header != "" {
				hdr["x-functions-key"] = tc.header
			}
			resp, body := do(t, http.MethodGet, h.URL()+tc.path, "", hdr)
			if tc.want == http.StatusUnauthorized {
				assertProblem(t, resp, body, tc.want)
				return
			}
			assert.Equal(t, tc.want, resp.StatusCode, body)
		})
	}
}

func blobClient(t *testing.T) *azblob.Client {
	t.Helper()
	c, err := azblob.NewClientFromConnectionString(storageConn, nil)
	require.NoError(t, err)
	return c
}

func readBlob(t *testing.T, container, name string) []byte {
	t.Helper()
	resp, err := blobClient(t).DownloadStream(testCtx(t), container, name, nil)
	require.NoError(t, err, "%s/%s", container, name)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return b
}

func readHostSecrets(t *testing.T, h *Host) hostSecrets {
	t.Helper()
	var hs hostSecrets
	require.NoError(t, json.Unmarshal(readBlob(t, secretsContainer, h.HostID()+"/host.json"), &hs))
	return hs
}

// TestKeysLiveInStorageInTheHostsFormat reads the blobs the way the real
// host's BlobStorageSecretsRepository lays them out.
func TestKeysLiveInStorageInTheHostsFormat(t *testing.T) {
	h, logs := startHost(t, stageApp(t, forwardingHostJSON, authFunctions, nil), newRelay(t, nil), nil)

	var host map[string]any
	require.NoError(t, json.Unmarshal(readBlob(t, secretsContainer, h.HostID()+"/host.json"), &host))
	assert.ElementsMatch(t, []string{"masterKey", "functionKeys", "systemKeys", "hostName", "instanceId", "source", "decryptionKeyId"}, keys(host))
	assert.Equal(t, map[string]any{"name": "master", "value": h.MasterKey(), "encrypted": false}, host["masterKey"])
	assert.Equal(t, "runtime", host["source"])
	assert.Equal(t, strings.TrimPrefix(h.URL(), "http://"), host["hostName"])
	assert.Equal(t, []any{}, host["systemKeys"])
	hs := readHostSecrets(t, h)
	require.Len(t, hs.FunctionKeys, 1)
	assert.Equal(t, "default", hs.FunctionKeys[0].Name)
	assert.True(t, validKeyValue(hs.MasterKey.Value, masterKeySeed))
	assert.True(t, validKeyValue(hs.FunctionKeys[0].Value, functionKeySeed))

	var fn functionSecrets
	require.NoError(t, json.Unmarshal(readBlob(t, secretsContainer, h.HostID()+"/fn.json"), &fn), "function blobs are lower case")
	require.Len(t, fn.Keys, 1)
	assert.Equal(t, secretKey{Name: "default", Value: h.FunctionKey("Fn")}, fn.Keys[0])
	assert.True(t, validKeyValue(fn.Keys[0].Value, functionKeySeed))

	assert.Contains(t, logs.String(), "Fn: [GET] "+h.URL()+"/api/fn/{id}?code="+h.FunctionKey("Fn"))
	assert.Contains(t, logs.String(), "Adm: [GET] "+h.URL()+"/api/adm?code="+h.MasterKey())
	assert.Contains(t, logs.String(), "Open: [GET] "+h.URL()+"/api/open\n")
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestKeysAreCreatedOnceAndShared: a second start, and a second instance
// of the same app, use the keys the first start created.
func TestKeysAreCreatedOnceAndShared(t *testing.T) {
	root := stageApp(t, forwardingHostJSON, authFunctions, nil)
	first, _ := startHost(t, root, newRelay(t, nil), nil)
	second, _ := startHost(t, root, newRelay(t, nil), nil)
	assert.Equal(t, first.HostID(), second.HostID())
	assert.Equal(t, first.MasterKey(), second.MasterKey())
	assert.Equal(t, first.FunctionKey("Fn"), second.FunctionKey("Fn"))
	master := first.MasterKey()
	require.NoError(t, first.Close())
	require.NoError(t, second.Close())
	again, _ := startHost(t, root, newRelay(t, nil), nil)
	assert.Equal(t, master, again.MasterKey(), "a restart reuses the stored keys")
}

func TestConcurrentFirstStartsAgreeOnKeys(t *testing.T) {
	root := stageApp(t, forwardingHostJSON, authFunctions, nil)
	rl := newRelay(t, nil)
	hosts := make([]*Host, 3)
	errs := make([]error, 3)
	for i := range hosts {
		h, err := New(Config{ScriptRoot: root, Addr: "127.0.0.1:0", Settings: map[string]string{"RELAY_URL": rl.srv.URL, "AzureWebJobsStorage": storageConn}, Log: io.Discard})
		require.NoError(t, err)
		t.Cleanup(func() { h.Close() })
		hosts[i] = h
	}
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Go(func() { errs[i] = h.Start(testCtx(t)) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	for _, h := range hosts[1:] {
		assert.Equal(t, hosts[0].MasterKey(), h.MasterKey())
		assert.Equal(t, hosts[0].FunctionKey("Other"), h.FunctionKey("Other"))
	}
}

func TestStartNeedsStorage(t *testing.T) {
	root := stageApp(t, forwardingHostJSON, authFunctions, nil)
	h, err := New(Config{ScriptRoot: root, Addr: "127.0.0.1:0", Settings: map[string]string{"AzureWebJobsStorage": ""}, Log: io.Discard})
	require.NoError(t, err)
	err = h.Start(testCtx(t))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "AzureWebJobsStorage is not set")
}

// TestOneInstanceIsPrimary runs two instances of one app: one holds the
// primary host lock; when it stops, the other takes it.
func TestOneInstanceIsPrimary(t *testing.T) {
	root := stageApp(t, forwardingHostJSON, authFunctions, nil)
	rl := newRelay(t, nil)
	fast := lockTiming{Lease: 15 * time.Second, Renew: 5 * time.Second, Retry: 100 * time.Millisecond}
	first := startLocked(t, root, rl, fast)
	second := startLocked(t, root, rl, fast)
	require.True(t, first.IsPrimary())
	assert.False(t, second.IsPrimary())

	props, err := blobClient(t).ServiceClient().NewContainerClient(hostsContainer).NewBlobClient("locks/"+first.HostID()+"/host").GetProperties(testCtx(t), nil)
	require.NoError(t, err)
	require.NotNil(t, props.LeaseState)
	assert.Equal(t, lease.StateTypeLeased, lease.StateType(*props.LeaseState))

	require.NoError(t, first.Close())
	require.Eventually(t, second.IsPrimary, 20*time.Second, 20*time.Millisecond, "the second instance takes the released lock")
}

func startLocked(t *testing.T, root string, rl *relay, timing lockTiming) *Host {
	t.Helper()
	logs := &syncBuffer{}
	h, err := New(Config{ScriptRoot: root, Addr: "127.0.0.1:0", Settings: map[string]string{"RELAY_URL": rl.srv.URL, "AzureWebJobsStorage": storageConn}, Log: logs})
	require.NoError(t, err)
	h.lockTiming = timing
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, h.Start(ctx), logs.String())
	t.Cleanup(func() { h.Close() })
	return h
}

func TestLoadKeysGivesTheRunningHostsKeys(t *testing.T) {
	root := stageApp(t, forwardingHostJSON, authFunctions, nil)
	h, _ := startHost(t, root, newRelay(t, nil), nil)
	keys, err := LoadKeys(testCtx(t), Config{ScriptRoot: root, Settings: map[string]string{"AzureWebJobsStorage": storageConn}})
	require.NoError(t, err)
	assert.Equal(t, h.HostID(), keys.HostID)
	assert.Equal(t, h.MasterKey(), keys.Master)
	assert.Equal(t, readHostSecrets(t, h).FunctionKeys[0].Value, keys.Host)
	assert.Equal(t, map[string]string{"Open": h.FunctionKey("Open"), "Fn": h.FunctionKey("Fn"), "Other": h.FunctionKey("Other"), "Adm": h.FunctionKey("Adm")}, keys.Functions)
}

func TestSecretStorageTypeOtherThanBlobIsRefused(t *testing.T) {
	root := stageApp(t, forwardingHostJSON, authFunctions, nil)
	_, err := LoadKeys(testCtx(t), Config{ScriptRoot: root, Settings: map[string]string{"AzureWebJobsStorage": storageConn, "AzureWebJobsSecretStorageType": "files"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "blob storage only")
}
