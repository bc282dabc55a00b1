package devstack

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ordersflow/orderpipeline/emulators/azurite"
	"github.com/ordersflow/orderpipeline/emulators/funchost"
)

// startStorage starts Azurite for AzureWebJobsStorage (the host's keys and
// lock), with its data in <DataDir>/azurite, or in memory; Options.Storage
// names a running account instead.
func (st *Stack) startStorage(ctx context.Context, o Options) error {
	if o.Storage != "" {
		st.storageConnection = o.Storage
		return nil
	}
	opts := azurite.Options{RepoRoot: o.RepoRoot, Log: io.Discard}
	if o.DataDir != "" {
		opts.DataDir = filepath.Join(o.DataDir, "azurite")
		if err := os.MkdirAll(o.DataDir, 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(filepath.Join(o.DataDir, "azurite.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		st.storageLog, opts.Log = f, f
	}
	az, err := azurite.Start(ctx, opts)
	if err != nil {
		return fmt.Errorf("start azurite: %w", err)
	}
	st.azurite, st.storageConnection = az, az.ConnectionString()
	return nil
}

// loadKeys reads the app's keys once the host has created them.
func (st *Stack) loadKeys(ctx context.Context, o Options) error {
	keys, err := funchost.LoadKeys(ctx, funchost.Config{ScriptRoot: o.AppDir, Settings: st.settings, Log: io.Discard})
	if err != nil {
		return err
	}
	st.keys = keys
	return nil
}

// MasterKey is the host's master key: it opens every function and /admin.
func (st *Stack) MasterKey() string { return st.keys.Master }

// FunctionKey is the key that opens function name (authLevel function),
// e.g. FunctionKey("ListDeadLetters"); send it as x-functions-key or ?code=.
func (st *Stack) FunctionKey(name string) string { return st.keys.Functions[name] }

// HostKey is the host's default function key: it opens every
// function-level function.
func (st *Stack) HostKey() string { return st.keys.Host }

// StorageConnectionString is AzureWebJobsStorage (Azurite's account).
func (st *Stack) StorageConnectionString() string { return st.storageConnection }

func (st *Stack) stopStorage() error {
	var err error
	if st.azurite != nil {
		err = st.azurite.Stop()
	}
	if st.storageLog != nil {
		st.storageLog.Close()
	}
	return err
}

// HostID names the host's keys and lock in storage.
func (st *Stack) HostID() string { return st.keys.HostID }
