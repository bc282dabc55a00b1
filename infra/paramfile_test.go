package infra

import (
	"encoding/json"
	"fmt"
	"os"
)

// parameterNames reads the parameter names of an ARM deployment parameter
// file (main.<env>.parameters.json).
func parameterNames(path string) (map[string]json.RawMessage, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Parameters map[string]json.RawMessage `json:"parameters"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	if len(doc.Parameters) == 0 {
		return nil, fmt.Errorf("%s: no parameters", path)
	}
	return doc.Parameters, nil
}
