package funchost

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// localSettings is the part of local.settings.json the host reads.
type localSettings struct {
	IsEncrypted bool              `json:"IsEncrypted"`
	Values      map[string]string `json:"Values"`
}

// appSettings resolves app settings the way Core Tools does: a process
// environment variable wins over local.settings.json Values, and the
// caller's Config.Settings win over both.
type appSettings struct {
	local     map[string]string // local.settings.json Values
	overrides map[string]string // Config.Settings
	getenv    func(string) (string, bool)
}

func loadAppSettings(scriptRoot string, overrides map[string]string) (*appSettings, error) {
	s := &appSettings{overrides: overrides, getenv: os.LookupEnv}
	path := filepath.Join(scriptRoot, "local.settings.json")
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var ls localSettings
	if err := json.Unmarshal(raw, &ls); err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	if ls.IsEncrypted {
		return nil, fmt.Errorf("%s: IsEncrypted is true; the local host reads only plain Values", path)
	}
	s.local = ls.Values
	return s, nil
}

// lookup returns the value of one app setting.
func (s *appSettings) lookup(name string) (string, bool) {
	if v, ok := s.overrides[name]; ok {
		return v, true
	}
	if v, ok := s.getenv(name); ok {
		return v, true
	}
	v, ok := s.local[name]
	return v, ok
}

// environ is the handler process environment: the host's own environment,
// local.settings.json Values that the environment doesn't set, then the
// Config.Settings overrides.
func (s *appSettings) environ(extra map[string]string) []string {
	env := os.Environ()
	for k, v := range s.local {
		if _, ok := s.getenv(k); !ok {
			env = append(env, k+"="+v)
		}
	}
	for k, v := range s.overrides {
		env = append(env, k+"="+v)
	}
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	return env
}

var settingRefRE = regexp.MustCompile(`%([^%]+)%`)

// resolve replaces every %NAME% in v with the app setting NAME.
func (s *appSettings) resolve(v string) (string, error) {
	var missing []string
	out := settingRefRE.ReplaceAllStringFunc(v, func(ref string) string {
		name := strings.Trim(ref, "%")
		val, ok := s.lookup(name)
		if !ok {
			missing = append(missing, name)
		}
		return val
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("app setting %s is not set (environment, local.settings.json Values or Config.Settings)", strings.Join(missing, ", "))
	}
	return out, nil
}

// bytes reads a byte count app setting (a positive integer), or def when unset.
func (s *appSettings) bytes(name string, def int64) (int64, error) {
	v, ok := s.lookup(name)
	if !ok || v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("app setting %s=%q is not a positive number of bytes", name, v)
	}
	return n, nil
}
