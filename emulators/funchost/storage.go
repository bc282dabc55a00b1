package funchost

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
)

// settingStorage is the host's storage account: keys and the host lock.
const settingStorage = "AzureWebJobsStorage"

// settingHostID overrides the derived host id (AzureFunctionsWebHost:hostid).
const settingHostID = "AzureFunctionsWebHost__hostid"

// devStorage is what UseDevelopmentStorage=true stands for: Azurite's
// well-known account on its default ports.
const devStorage = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
	"AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
	"BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;" +
	"TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;"

// storageClient connects to AzureWebJobsStorage.
func storageClient(settings *appSettings) (*azblob.Client, error) {
	if t, ok := settings.lookup("AzureWebJobsSecretStorageType"); ok && t != "" && !strings.EqualFold(t, "blob") {
		return nil, fmt.Errorf("AzureWebJobsSecretStorageType=%s: the local host keeps keys in blob storage only (\"blob\", the default)", t)
	}
	conn, ok := settings.lookup(settingStorage)
	if !ok || strings.TrimSpace(conn) == "" {
		if _, ok := settings.lookup(settingStorage + "__accountName"); ok {
			return nil, errors.New("AzureWebJobsStorage__accountName (identity-based storage) is not supported by the local host; set AzureWebJobsStorage to a connection string (make run starts Azurite)")
		}
		return nil, errors.New("app setting AzureWebJobsStorage is not set: the host keeps its keys and its lock there (make run starts Azurite and sets it)")
	}
	if strings.EqualFold(strings.TrimSpace(strings.TrimSuffix(conn, ";")), "UseDevelopmentStorage=true") {
		conn = devStorage
	}
	c, err := azblob.NewClientFromConnectionString(conn, nil)
	if err != nil {
		return nil, fmt.Errorf("AzureWebJobsStorage: %w", err)
	}
	return c, nil
}

// hostID is the id the real host derives when it runs outside Azure: the
// machine name's letters and digits, "-", the absolute value of a stable
// hash of the script root; at most 32 characters, lower case, no trailing
// "-". Every instance of one app on one machine shares it, and with it
// its keys and its lock. AzureFunctionsWebHost__hostid overrides it.
func hostID(settings *appSettings, scriptRoot string) string {
	if id, ok := settings.lookup(settingHostID); ok && id != "" {
		return id
	}
	machine, _ := os.Hostname()
	var b strings.Builder
	for _, r := range machine {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	id := b.String() + "-" + strconv.FormatInt(abs(int64(stableHash(scriptRoot))), 10)
	if len(id) > 32 {
		id = id[:32]
	}
	return strings.TrimRight(strings.ToLower(id), "-")
}

// stableHash is the host's Utility.GetStableHash over UTF-16 code units.
func stableHash(s string) int32 {
	h := int32(23)
	for _, u := range utf16.Encode([]rune(s)) {
		h = h*31 + int32(u)
	}
	return h
}

func abs(n int64) int64 {
	if n == math.MinInt64 {
		return math.MaxInt64
	}
	if n < 0 {
		return -n
	}
	return n
}

// startStorage loads the keys and starts contending for the primary host lock.
func (h *Host) startStorage(ctx context.Context) error {
	c, err := storageClient(h.settings)
	if err != nil {
		return err
	}
	info := secretsInfo{HostName: h.ln.Addr().String(), InstanceID: strings.ReplaceAll(h.id, "-", ""), Source: "runtime"}
	st := &secretStore{container: c.ServiceClient().NewContainerClient(secretsContainer), hostID: h.hostID, info: info}
	keys, err := st.loadKeys(ctx, h.fns)
	if err != nil {
		return fmt.Errorf("host keys: %w", err)
	}
	h.keys = keys
	h.lock = newPrimaryLock(c, h.hostID, h.id, h.con, h.lockTiming)
	return h.lock.start(ctx)
}

// AppKeys are an app's keys as the host keeps them in AzureWebJobsStorage.
type AppKeys struct {
	HostID    string
	Master    string            // opens everything, /admin included
	Host      string            // the host's "default" function key: opens every function-level function
	Functions map[string]string // function name -> its "default" key
}

// LoadKeys reads the keys of the app in cfg.ScriptRoot from
// AzureWebJobsStorage (cfg.Settings, environment or local.settings.json),
// creating them on first use exactly as a starting host would. Every
// instance of the app shares them.
func LoadKeys(ctx context.Context, cfg Config) (AppKeys, error) {
	h, err := New(cfg)
	if err != nil {
		return AppKeys{}, err
	}
	c, err := storageClient(h.settings)
	if err != nil {
		return AppKeys{}, err
	}
	st := &secretStore{container: c.ServiceClient().NewContainerClient(secretsContainer), hostID: h.hostID, info: secretsInfo{Source: "runtime"}}
	k, err := st.loadKeys(ctx, h.fns)
	if err != nil {
		return AppKeys{}, fmt.Errorf("funchost: host keys: %w", err)
	}
	out := AppKeys{HostID: h.hostID, Master: k.master, Functions: map[string]string{}}
	if len(k.host) > 0 {
		out.Host = k.host[0]
	}
	for _, f := range h.fns {
		if key, ok := k.defaults[strings.ToLower(f.Name)]; ok {
			out.Functions[f.Name] = key
		}
	}
	return out, nil
}
