package funchost

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// hostJSON is the part of host.json the local host honours.
type hostJSON struct {
	Version         string             `json:"version"`
	CustomHandler   *customHandlerJSON `json:"customHandler"`
	Extensions      hostExtensionsJSON `json:"extensions"`
	FunctionTimeout string             `json:"functionTimeout"`
	Functions       []string           `json:"functions"`
}

type customHandlerJSON struct {
	Description                 handlerDescriptionJSON `json:"description"`
	EnableForwardingHTTPRequest bool                   `json:"enableForwardingHttpRequest"`
}

type handlerDescriptionJSON struct {
	DefaultExecutablePath string   `json:"defaultExecutablePath"`
	DefaultWorkerPath     string   `json:"defaultWorkerPath"`
	WorkingDirectory      string   `json:"workingDirectory"`
	Arguments             []string `json:"arguments"`
}

type hostExtensionsJSON struct {
	HTTP *struct {
		RoutePrefix *string `json:"routePrefix"`
	} `json:"http"`
}

// hostConfig is host.json, validated and with defaults applied.
type hostConfig struct {
	Executable      string // absolute path
	Arguments       []string
	WorkingDir      string
	Forwarding      bool
	RoutePrefix     string
	FunctionTimeout time.Duration
	Functions       []string // optional allow-list of function names
}

const defaultFunctionTimeout = 30 * time.Minute // Core Tools' default on a dev machine

func loadHostJSON(scriptRoot string) (hostConfig, error) {
	path := filepath.Join(scriptRoot, "host.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		return hostConfig{}, fmt.Errorf("read host.json: %w", err)
	}
	var hj hostJSON
	if err := json.Unmarshal(raw, &hj); err != nil {
		return hostConfig{}, fmt.Errorf("decode %s: %w", path, err)
	}
	return hj.validate(scriptRoot)
}

func (hj hostJSON) validate(scriptRoot string) (hostConfig, error) {
	if hj.Version != "2.0" {
		return hostConfig{}, fmt.Errorf("host.json: \"version\" must be \"2.0\", got %q", hj.Version)
	}
	if hj.CustomHandler == nil || hj.CustomHandler.Description.DefaultExecutablePath == "" {
		return hostConfig{}, fmt.Errorf("host.json: customHandler.description.defaultExecutablePath is required")
	}
	d := hj.CustomHandler.Description
	if d.DefaultWorkerPath != "" {
		return hostConfig{}, fmt.Errorf("host.json: customHandler.description.defaultWorkerPath is not supported by the local host")
	}
	cfg := hostConfig{
		Executable:      absUnder(scriptRoot, d.DefaultExecutablePath),
		Arguments:       d.Arguments,
		WorkingDir:      absUnder(scriptRoot, d.WorkingDirectory),
		Forwarding:      hj.CustomHandler.EnableForwardingHTTPRequest,
		RoutePrefix:     "api",
		FunctionTimeout: defaultFunctionTimeout,
		Functions:       hj.Functions,
	}
	if hj.Extensions.HTTP != nil && hj.Extensions.HTTP.RoutePrefix != nil {
		cfg.RoutePrefix = trimSlashes(*hj.Extensions.HTTP.RoutePrefix)
	}
	if hj.FunctionTimeout != "" && hj.FunctionTimeout != "-1" {
		t, err := parseTimeSpan(hj.FunctionTimeout)
		if err != nil || t <= 0 {
			return hostConfig{}, fmt.Errorf("host.json: functionTimeout %q is not a positive TimeSpan", hj.FunctionTimeout)
		}
		cfg.FunctionTimeout = t
	}
	return cfg, nil
}

// absUnder resolves p against dir unless it is already absolute.
func absUnder(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}
