package funchost

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// function is one validated function.json.
type function struct {
	Name    string
	File    string // "ApplyTax/function.json", for messages
	HTTP    *httpTrigger
	Cosmos  *cosmosTrigger
	HTTPOut []string // names of http output bindings ("$return" included)
	Retry   *retryPolicy
}

// triggerType names the function's trigger for the console.
func (f *function) triggerType() string {
	if f.HTTP != nil {
		return "httpTrigger"
	}
	return "cosmosDBTrigger"
}

// forwardable reports whether the host forwards the raw HTTP request: the
// bindings are exactly one httpTrigger in and one http out.
func (f *function) forwardable() bool {
	return f.HTTP != nil && len(f.HTTPOut) == 1
}

type functionJSON struct {
	Bindings []map[string]json.RawMessage `json:"bindings"`
	Retry    map[string]json.RawMessage   `json:"retry"`
	Disabled json.RawMessage              `json:"disabled"`
}

// knownTopLevel are function.json keys that are valid for a custom handler.
var knownTopLevel = map[string]bool{
	"bindings": true, "retry": true, "disabled": true, "$schema": true,
	"scriptfile": true, "entrypoint": true, "configurationsource": true,
	"generatedby": true, "excluded": true,
}

// loadFunctions reads every <dir>/function.json next to host.json. All
// problems are reported together.
func loadFunctions(scriptRoot string, hc hostConfig, settings *appSettings) ([]*function, error) {
	dirs, err := functionDirs(scriptRoot, hc.Functions)
	if err != nil {
		return nil, err
	}
	var fns []*function
	var errs []error
	for _, name := range dirs {
		f, err := loadFunction(scriptRoot, name, settings)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if f != nil {
			fns = append(fns, f)
		}
	}
	errs = append(errs, checkLeasePrefixes(fns)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(fns) == 0 {
		return nil, fmt.Errorf("no functions found: no */function.json next to %s", filepath.Join(scriptRoot, "host.json"))
	}
	return fns, nil
}

func functionDirs(scriptRoot string, allow []string) ([]string, error) {
	entries, err := os.ReadDir(scriptRoot)
	if err != nil {
		return nil, fmt.Errorf("read script root: %w", err)
	}
	allowed := map[string]bool{}
	for _, n := range allow {
		allowed[strings.ToLower(n)] = true
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() || (len(allow) > 0 && !allowed[strings.ToLower(e.Name())]) {
			continue
		}
		if _, err := os.Stat(filepath.Join(scriptRoot, e.Name(), "function.json")); err == nil {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// loadFunction returns nil, nil for a disabled function.
func loadFunction(scriptRoot, name string, settings *appSettings) (*function, error) {
	file := name + "/function.json"
	raw, err := os.ReadFile(filepath.Join(scriptRoot, name, "function.json"))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	var top map[string]json.RawMessage
	var fj functionJSON
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, fmt.Errorf("decode %s: %w", file, err)
	}
	if err := json.Unmarshal(raw, &fj); err != nil {
		return nil, fmt.Errorf("decode %s: %w", file, err)
	}
	var errs []error
	for k := range top {
		if !knownTopLevel[strings.ToLower(k)] {
			errs = append(errs, fmt.Errorf("%s: property %q is not supported by the local host", file, k))
		}
	}
	if disabled(fj.Disabled, name, settings) {
		return nil, errors.Join(errs...)
	}
	f := &function{Name: name, File: file}
	errs = append(errs, f.readBindings(fj.Bindings, settings)...)
	if fj.Retry != nil {
		p, err := parseRetry(file, fj.Retry)
		errs = append(errs, err)
		f.Retry = p
	}
	if f.Retry != nil && f.HTTP != nil {
		errs = append(errs, fmt.Errorf("%s: a retry policy is not supported for httpTrigger functions (only for cosmosDBTrigger here)", file))
	}
	return f, errors.Join(errs...)
}

// disabled honours "disabled": true in function.json and the
// AzureWebJobs.<Name>.Disabled app setting.
func disabled(raw json.RawMessage, name string, settings *appSettings) bool {
	if v, ok := settings.lookup("AzureWebJobs." + name + ".Disabled"); ok && strings.EqualFold(v, "true") {
		return true
	}
	var b bool
	return json.Unmarshal(raw, &b) == nil && b
}

func (f *function) readBindings(bindings []map[string]json.RawMessage, settings *appSettings) []error {
	var errs []error
	triggers := 0
	for i, raw := range bindings {
		typ, dir, name := bindingHeader(raw)
		where := fmt.Sprintf("%s: binding %q (%s)", f.File, name, typ)
		if name == "" {
			where = fmt.Sprintf("%s: binding #%d (%s)", f.File, i+1, typ)
		}
		b := newBindingReader(where, raw, settings)
		switch {
		case name == "":
			b.fail("property \"name\" is required")
		case strings.EqualFold(typ, "httpTrigger") && dir == "in":
			triggers++
			f.HTTP = readHTTPTrigger(b, name)
		case strings.EqualFold(typ, "cosmosDBTrigger") && dir == "in":
			triggers++
			f.Cosmos = readCosmosTrigger(b, name)
		case strings.EqualFold(typ, "http") && dir == "out":
			f.HTTPOut = append(f.HTTPOut, name)
		default:
			b.fail("binding type %q with direction %q is not supported by the local host (supported: httpTrigger in, http out, cosmosDBTrigger in)", typ, dir)
		}
		errs = append(errs, b.finish()...)
	}
	if triggers != 1 {
		errs = append(errs, fmt.Errorf("%s: a function needs exactly one trigger binding, found %d", f.File, triggers))
	}
	if f.Cosmos != nil && len(f.HTTPOut) > 0 {
		errs = append(errs, fmt.Errorf("%s: an http output binding needs an httpTrigger", f.File))
	}
	return errs
}

func bindingHeader(raw map[string]json.RawMessage) (typ, dir, name string) {
	for k, v := range raw {
		var s string
		_ = json.Unmarshal(v, &s) // a non-string header is reported as missing
		switch strings.ToLower(k) {
		case "type":
			typ = s
		case "direction":
			dir = strings.ToLower(s)
		case "name":
			name = s
		}
	}
	return typ, dir, name
}
