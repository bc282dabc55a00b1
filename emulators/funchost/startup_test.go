package funchost

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testConn = "AccountEndpoint=http://127.0.0.1:1/;AccountKey=C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==;"

func cosmosFn(extra string) string {
	return `{"bindings":[{"type":"cosmosDBTrigger","direction":"in","name":"documents","connection":"COSMOS",
		"databaseName":"%COSMOS_DATABASE%","containerName":"orders","leaseContainerName":"leases","leaseContainerPrefix":"tax-"` + extra + `}]}`
}

func TestStartupErrors(t *testing.T) {
	tests := []struct {
		name      string
		hostJSON  string
		functions map[string]string
		settings  map[string]string
		want      []string
	}{
		{
			name:      "v3 property name",
			functions: map[string]string{"ApplyTax": cosmosFn(`,"collectionName":"orders"`)},
			want:      []string{`ApplyTax/function.json: binding "documents" (cosmosDBTrigger): property "collectionname" is not supported: that is the Cosmos DB extension v3 name; use "containerName"`},
		},
		{
			name:      "unsupported binding type",
			functions: map[string]string{"Publish": `{"bindings":[{"type":"serviceBus","direction":"out","name":"msg","topicName":"t"},{"type":"httpTrigger","direction":"in","name":"req"}]}`},
			want:      []string{`Publish/function.json: binding "msg" (serviceBus): binding type "serviceBus" with direction "out" is not supported`},
		},
		{
			name:      "unknown property",
			functions: map[string]string{"Get": `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","rout":"x"},{"type":"http","direction":"out","name":"res"}]}`},
			want:      []string{`Get/function.json: binding "req" (httpTrigger): property "rout" is not supported by the local host`},
		},
		{
			name:      "unresolvable setting",
			functions: map[string]string{"ApplyTax": cosmosFn(`,"maxItemsPerInvocation":10`)},
			settings:  map[string]string{"COSMOS": testConn},
			want:      []string{`ApplyTax/function.json: binding "documents" (cosmosDBTrigger): property "databaseName": app setting COSMOS_DATABASE is not set`},
		},
		{
			name:      "setting resolves to empty",
			functions: map[string]string{"ApplyTax": cosmosFn(``)},
			settings:  map[string]string{"COSMOS": testConn, "COSMOS_DATABASE": ""},
			want:      []string{`ApplyTax/function.json: binding "documents" (cosmosDBTrigger): property "databaseName" is empty`},
		},
		{
			name:      "missing connection",
			functions: map[string]string{"ApplyTax": cosmosFn(``)},
			settings:  map[string]string{"COSMOS_DATABASE": "commerce"},
			want:      []string{`ApplyTax/function.json: binding "documents" (cosmosDBTrigger): connection "COSMOS": app setting COSMOS is not set`},
		},
		{
			name:      "bad retry policy",
			functions: map[string]string{"ApplyTax": strings.TrimSuffix(cosmosFn(``), "}") + `,"retry":{"strategy":"linear","maxRetryCount":-2}}`},
			want:      []string{`ApplyTax/function.json: retry: maxRetryCount is required and must be -1`, `ApplyTax/function.json: retry: strategy "linear" is not fixedDelay or exponentialBackoff`},
		},
		{
			name:      "exponential without maximum",
			functions: map[string]string{"ApplyTax": strings.TrimSuffix(cosmosFn(``), "}") + `,"retry":{"strategy":"exponentialBackoff","maxRetryCount":3,"minimumInterval":"00:00:01"}}`},
			want:      []string{`ApplyTax/function.json: retry: maximumInterval is required for strategy "exponentialBackoff"`},
		},
		{
			name:      "retry on http",
			functions: map[string]string{"Get": `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req"},{"type":"http","direction":"out","name":"res"}],"retry":{"strategy":"fixedDelay","maxRetryCount":1,"delayInterval":"00:00:01"}}`},
			want:      []string{`Get/function.json: a retry policy is not supported for httpTrigger functions`},
		},
		{
			name:      "admin route",
			functions: map[string]string{"Ops": `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","route":"admin/things"},{"type":"http","direction":"out","name":"res"}]}`},
			want:      []string{`Ops/function.json: binding "req" (httpTrigger): route "admin/things" conflicts with the host's built-in admin routes`},
		},
		{
			name: "shared lease prefix",
			functions: map[string]string{
				"ApplyTax":       cosmosFn(``),
				"ProcessPayment": cosmosFn(``),
			},
			want: []string{`ProcessPayment/function.json: leaseContainerPrefix "tax-" is also used by ApplyTax`},
		},
		{
			name:      "bad route constraint",
			functions: map[string]string{"Get": `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","route":"items/{id:bogus}"},{"type":"http","direction":"out","name":"res"}]}`},
			want:      []string{`Get/function.json: binding "req" (httpTrigger): route "items/{id:bogus}": parameter "id": constraint "bogus"`},
		},
		{
			name:      "two triggers",
			functions: map[string]string{"Get": `{"bindings":[{"type":"httpTrigger","direction":"in","name":"a"},{"type":"httpTrigger","direction":"in","name":"b"}]}`},
			want:      []string{`Get/function.json: a function needs exactly one trigger binding, found 2`},
		},
		{
			name:      "no executable",
			hostJSON:  `{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"missing"}}}`,
			functions: httpFunctions,
			want:      []string{`host.json: customHandler.description.defaultExecutablePath`},
		},
		{
			name:      "host.json without custom handler",
			hostJSON:  `{"version":"2.0"}`,
			functions: httpFunctions,
			want:      []string{`host.json: customHandler.description.defaultExecutablePath is required`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hj := tc.hostJSON
			if hj == "" {
				hj = forwardingHostJSON
			}
			settings := tc.settings
			if settings == nil {
				settings = map[string]string{"COSMOS": testConn, "COSMOS_DATABASE": "commerce"}
			}
			_, err := New(Config{ScriptRoot: stageApp(t, hj, tc.functions, nil), Settings: settings})
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// TestAHandlerThatExitsAtStartFailsStart: a handler that quits before it
// answers (a bad app setting, say) fails Start with its exit status and its
// own words on the console, instead of leaving Start waiting forever.
func TestAHandlerThatExitsAtStartFailsStart(t *testing.T) {
	root := stageApp(t, forwardingHostJSON, httpFunctions, nil)
	script := "#!/bin/sh\necho 'config: STAGE_CONCURRENCY must be a whole number' >&2\nexit 3\n"
	require.NoError(t, os.WriteFile(filepath.Join(root, "handler"), []byte(script), 0o755))
	logs := &syncBuffer{}
	h, err := New(Config{ScriptRoot: root, Addr: "127.0.0.1:0", Settings: map[string]string{"AzureWebJobsStorage": storageConn}, Log: logs})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	started := make(chan error, 1)
	go func() { started <- h.Start(ctx) }()
	select {
	case err := <-started:
		require.Error(t, err)
		assert.Contains(t, err.Error(), "exited before it answered GET /")
		assert.Contains(t, err.Error(), "exit status 3")
	case <-time.After(30 * time.Second):
		t.Fatalf("Start had not returned 30 s after the handler exited:\n%s", logs.String())
	}
	assert.Contains(t, logs.String(), "handler: config: STAGE_CONCURRENCY must be a whole number")
}

// TestLoadsTheAppsOwnFunctionFiles stages the real host.json and
// functions/*/function.json with the example settings.
func TestLoadsTheAppsOwnFunctionFiles(t *testing.T) {
	repo := filepath.Join("..", "..")
	hj, err := os.ReadFile(filepath.Join(repo, "host.json"))
	require.NoError(t, err)
	dirs, err := filepath.Glob(filepath.Join(repo, "functions", "*", "function.json"))
	require.NoError(t, err)
	fns := map[string]string{}
	for _, p := range dirs {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		fns[filepath.Base(filepath.Dir(p))] = string(b)
	}
	var example localSettings
	raw, err := os.ReadFile(filepath.Join(repo, "local.settings.json.example"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &example))

	h, err := New(Config{ScriptRoot: stageApp(t, string(hj), fns, example.Values)})
	require.NoError(t, err)
	assert.Len(t, h.fns, len(fns))
	for _, f := range h.fns {
		if f.Cosmos != nil {
			assert.Equal(t, "commerce", f.Cosmos.Database, f.Name)
			assert.Equal(t, "orders", f.Cosmos.Container, f.Name)
			assert.Equal(t, "leases", f.Cosmos.LeaseContainer, f.Name)
			require.NotNil(t, f.Retry, f.Name)
		}
	}
	assert.True(t, h.hc.Forwarding)
	assert.Equal(t, "api", h.hc.RoutePrefix)
}

func TestDisabledAndListedFunctions(t *testing.T) {
	fns := map[string]string{
		"Checkout": httpFunctions["Checkout"],
		"GetOrder": httpFunctions["GetOrder"],
		"GetItem":  strings.TrimSuffix(httpFunctions["GetItem"], "}") + `,"disabled":true}`,
		"Hooks":    httpFunctions["Hooks"],
	}
	names := func(h *Host) []string {
		var out []string
		for _, f := range h.fns {
			out = append(out, f.Name)
		}
		return out
	}
	h, err := New(Config{ScriptRoot: stageApp(t, forwardingHostJSON, fns, nil), Settings: map[string]string{"AzureWebJobs.Hooks.Disabled": "true"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"Checkout", "GetOrder"}, names(h))

	listed := `{"version":"2.0","functions":["GetOrder"],"customHandler":{"description":{"defaultExecutablePath":"handler"}}}`
	h, err = New(Config{ScriptRoot: stageApp(t, listed, fns, nil)})
	require.NoError(t, err)
	assert.Equal(t, []string{"GetOrder"}, names(h))
}
