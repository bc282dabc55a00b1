package servicebus_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/ordersflow/orderpipeline/emulators/servicebus/sbemu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigErrorsStopStartup(t *testing.T) {
	root, err := sbemu.RepoRoot()
	require.NoError(t, err)
	ns := func(queues ...any) map[string]any {
		return map[string]any{"UserConfig": map[string]any{"Namespaces": []any{map[string]any{"Name": "ns", "Queues": queues}}}}
	}
	tests := []struct {
		name string
		doc  any
		want string
	}{
		{"no namespaces", map[string]any{"UserConfig": map[string]any{}}, "UserConfig.Namespaces"},
		{"bad duration", ns(map[string]any{"Name": "q", "Properties": map[string]any{"LockDuration": "1 minute"}}), "LockDuration"},
		{"duplicate queue", ns(map[string]any{"Name": "q"}, map[string]any{"Name": "Q"}), "duplicate entity name"},
		{"bad sql filter", map[string]any{"UserConfig": map[string]any{"Namespaces": []any{map[string]any{"Name": "ns", "Topics": []any{
			map[string]any{"Name": "t", "Subscriptions": []any{map[string]any{"Name": "s", "Rules": []any{
				map[string]any{"Name": "r", "Properties": map[string]any{"FilterType": "Sql", "SqlFilter": map[string]any{"SqlExpression": "a = = 1"}}},
			}}}},
		}}}}}, "SQL filter"},
		{"forward to nowhere", ns(map[string]any{"Name": "q", "Properties": map[string]any{"ForwardTo": "missing"}}), "ForwardTo"},
		{"bad max delivery count", ns(map[string]any{"Name": "q", "Properties": map[string]any{"MaxDeliveryCount": 0}}), "MaxDeliveryCount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			e, err := sbemu.Start(context.Background(), root, writeConfig(t, tt.doc), &logs)
			if e != nil {
				t.Cleanup(func() { _ = e.Stop() })
			}
			require.Error(t, err)
			assert.Contains(t, logs.String(), tt.want)
		})
	}
}
