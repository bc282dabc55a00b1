package infra

// deploy.sh against a stub `az` that records its calls: the real Azure CLI
// can't reach Azure from here, but the script's flow, its arguments and the
// package it publishes can be checked.

import (
	"archive/zip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const stubAz = `#!/usr/bin/env bash
echo "$*" >> "$AZ_LOG"
case "$*" in
"group exists"*) echo false ;;
"ad signed-in-user show"*) echo 00000000-0000-0000-0000-0000000000aa ;;
*outputs.hostingPlan.value*) echo "$AZ_PLAN" ;;
*outputs.functionAppName.value*) echo func-test ;;
*outputs.*) echo value ;;
*config-zip* | *"storage blob upload"*)
	while [[ $# -gt 0 ]]; do
		if [[ $1 == --src || $1 == --file ]]; then cp "$2" "$AZ_PACKAGE"; fi
		shift
	done
	;;
esac
`

// stageApp writes a minimal staged app; handler is a Linux binary (this test
// binary) unless notLinux.
func stageApp(t *testing.T, notLinux bool) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "GetOrder"), 0o755))
	for src, dst := range map[string]string{"../host.json": "host.json", "../functions/GetOrder/function.json": "GetOrder/function.json"} {
		b, err := os.ReadFile(src)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, dst), b, 0o644))
	}
	handler := []byte("#!/bin/sh\n")
	if !notLinux {
		self, err := os.Executable()
		require.NoError(t, err)
		handler, err = os.ReadFile(self)
		require.NoError(t, err)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "handler"), handler, 0o755))
	return dir
}

func runDeploy(t *testing.T, plan, appDir string) (calls, out string, pkg string, err error) {
	t.Helper()
	bin := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bin, "az"), []byte(stubAz), 0o755))
	work := t.TempDir()
	cmd := exec.Command("bash", "deploy.sh", "dev", appDir)
	cmd.Env = append(os.Environ(),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"AZ_LOG="+filepath.Join(work, "calls"), "AZ_PLAN="+plan, "AZ_PACKAGE="+filepath.Join(work, "app.zip"))
	b, err := cmd.CombinedOutput()
	log, _ := os.ReadFile(filepath.Join(work, "calls"))
	return string(log), string(b), filepath.Join(work, "app.zip"), err
}

func TestDeployScript(t *testing.T) {
	for _, tc := range []struct{ plan, publish string }{
		{"FlexConsumption", "functionapp deployment source config-zip --resource-group rg-orderpipeline-dev --name func-test"},
		{"ElasticPremium", "storage blob upload --auth-mode login"},
	} {
		t.Run(tc.plan, func(t *testing.T) {
			calls, out, pkg, err := runDeploy(t, tc.plan, stageApp(t, false))
			require.NoError(t, err, out)
			assert.Contains(t, calls, "deployment group create --resource-group rg-orderpipeline-dev --name orderpipeline-dev --template-file ")
			assert.Contains(t, calls, "--parameters @"+mustAbs(t, "main.dev.parameters.json"))
			assert.Contains(t, calls, tc.publish)
			assert.NotContains(t, strings.ToLower(calls), "key")
			zr, err := zip.OpenReader(pkg)
			require.NoError(t, err)
			defer zr.Close()
			modes := map[string]os.FileMode{}
			for _, f := range zr.File {
				modes[strings.TrimPrefix(f.Name, "./")] = f.Mode()
			}
			assert.Contains(t, modes, "host.json")
			assert.Contains(t, modes, "GetOrder/function.json")
			assert.NotZero(t, modes["handler"]&0o100, "handler must stay executable in the package")
		})
	}
}

func TestDeployScriptRejectsNonLinuxHandler(t *testing.T) {
	calls, out, _, err := runDeploy(t, "FlexConsumption", stageApp(t, true))
	require.Error(t, err)
	assert.Contains(t, out, "is not a Linux binary")
	assert.Empty(t, calls, "nothing is deployed")
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	require.NoError(t, err)
	return abs
}
