package funchost

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// The blob layout of the host's BlobStorageSecretsRepository.
const (
	secretsContainer = "azure-webjobs-secrets"
	masterKeyName    = "master"
	defaultKeyName   = "default"
	storageTimeout   = 10 * time.Second
	maxSecretsBlob   = 1 << 20
)

// secretKey, hostSecrets and functionSecrets are the host's own JSON
// (ScriptSecretSerializerV1): {hostId}/host.json and {hostId}/{function}.json.
type secretKey struct {
	Name      string `json:"name"`
	Value     string `json:"value"`
	Encrypted bool   `json:"encrypted"`
}

type secretsInfo struct {
	HostName        string `json:"hostName"`
	InstanceID      string `json:"instanceId"`
	Source          string `json:"source"`
	DecryptionKeyID string `json:"decryptionKeyId"`
}

type hostSecrets struct {
	MasterKey    *secretKey  `json:"masterKey"`
	FunctionKeys []secretKey `json:"functionKeys"`
	SystemKeys   []secretKey `json:"systemKeys"`
	secretsInfo
}

type functionSecrets struct {
	Keys []secretKey `json:"keys"`
	secretsInfo
}

// secretStore reads and creates keys in the AzureWebJobsStorage account.
type secretStore struct {
	container *container.Client
	hostID    string
	info      secretsInfo
}

// loadKeys reads the host keys and the keys of every HTTP function,
// creating those that do not exist yet (first start).
func (st *secretStore) loadKeys(ctx context.Context, fns []*function) (*keyring, error) {
	if err := ensureContainer(ctx, st.container); err != nil {
		return nil, err
	}
	var hs hostSecrets
	err := st.loadOrCreate(ctx, "host.json", &hs, func() any {
		return hostSecrets{MasterKey: &secretKey{Name: masterKeyName, Value: newKeyValue(masterKeySeed)},
			FunctionKeys: []secretKey{{Name: defaultKeyName, Value: newKeyValue(functionKeySeed)}}, SystemKeys: []secretKey{}, secretsInfo: st.info}
	})
	if err != nil {
		return nil, err
	}
	if hs.MasterKey == nil || hs.MasterKey.Value == "" || hs.MasterKey.Encrypted {
		return nil, fmt.Errorf("%s/%s/host.json: no plain masterKey (encrypted keys are not supported locally)", secretsContainer, st.hostID)
	}
	k := &keyring{master: hs.MasterKey.Value, host: values(hs.FunctionKeys), system: values(hs.SystemKeys),
		functions: map[string][]string{}, defaults: map[string]string{}}
	for _, f := range fns {
		if f.HTTP == nil {
			continue
		}
		if err := st.loadFunction(ctx, f.Name, k); err != nil {
			return nil, err
		}
	}
	return k, nil
}

func (st *secretStore) loadFunction(ctx context.Context, name string, k *keyring) error {
	var fs functionSecrets
	err := st.loadOrCreate(ctx, strings.ToLower(name)+".json", &fs, func() any {
		return functionSecrets{Keys: []secretKey{{Name: defaultKeyName, Value: newKeyValue(functionKeySeed)}}, secretsInfo: st.info}
	})
	if err != nil {
		return err
	}
	lower := strings.ToLower(name)
	k.functions[lower] = values(fs.Keys)
	for _, key := range fs.Keys {
		if strings.EqualFold(key.Name, defaultKeyName) && !key.Encrypted {
			k.defaults[lower] = key.Value
		}
	}
	return nil
}

// values are the plain key values; encrypted ones cannot be used locally.
func values(keys []secretKey) []string {
	var out []string
	for _, k := range keys {
		if !k.Encrypted && k.Value != "" {
			out = append(out, k.Value)
		}
	}
	return out
}

// loadOrCreate reads {hostId}/{name} into v. When the blob does not exist
// it writes create() only if still absent (If-None-Match: *), so two
// instances starting together end up with the same keys, and reads again.
func (st *secretStore) loadOrCreate(ctx context.Context, name string, v any, create func() any) error {
	path := st.hostID + "/" + name
	b := st.container.NewBlockBlobClient(path)
	err := downloadJSON(ctx, b, v)
	if !bloberror.HasCode(err, bloberror.BlobNotFound) {
		return wrapBlob("read", path, err)
	}
	raw, err := json.MarshalIndent(create(), "", "  ")
	if err != nil {
		return err
	}
	if err := uploadIfAbsent(ctx, b, raw); err != nil && !alreadyExists(err) {
		return wrapBlob("create", path, err)
	}
	return wrapBlob("read", path, downloadJSON(ctx, b, v))
}

func downloadJSON(ctx context.Context, b *blockblob.Client, v any) error {
	ctx, cancel := context.WithTimeout(ctx, storageTimeout)
	defer cancel()
	resp, err := b.DownloadStream(ctx, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxSecretsBlob))
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

func uploadIfAbsent(ctx context.Context, b *blockblob.Client, raw []byte) error {
	ctx, cancel := context.WithTimeout(ctx, storageTimeout)
	defer cancel()
	anyETag := azcore.ETagAny
	ct := "application/json"
	_, err := b.UploadBuffer(ctx, raw, &blockblob.UploadBufferOptions{
		HTTPHeaders:      &blob.HTTPHeaders{BlobContentType: &ct},
		AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfNoneMatch: &anyETag}},
	})
	return err
}

func alreadyExists(err error) bool {
	return bloberror.HasCode(err, bloberror.BlobAlreadyExists, bloberror.ConditionNotMet)
}

func ensureContainer(ctx context.Context, c *container.Client) error {
	ctx, cancel := context.WithTimeout(ctx, storageTimeout)
	defer cancel()
	_, err := c.Create(ctx, nil)
	if err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		return fmt.Errorf("create blob container: %w", err)
	}
	return nil
}

func wrapBlob(op, path string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s blob %s/%s: %w", op, secretsContainer, path, err)
}
