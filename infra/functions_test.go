package infra

// The function.json side of the consistency checks: every connection and
// %setting% a binding names is set, every database and container it names
// exists in infra/containers.json, lease containers are on /id, and no two
// triggers on one container share a lease prefix.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/ordersflow/orderpipeline/shared/cosmosstore"
)

// function is one functions/<Name>/function.json.
type function struct {
	name     string
	path     string
	bindings []map[string]any
}

func loadFunctions(dir string) ([]function, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*", "function.json"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no function.json under %s", dir)
	}
	sort.Strings(paths)
	fns := make([]function, 0, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var doc struct {
			Bindings []map[string]any `json:"bindings"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("decode %s: %w", p, err)
		}
		fns = append(fns, function{name: filepath.Base(filepath.Dir(p)), path: p, bindings: doc.Bindings})
	}
	return fns, nil
}

var settingRef = regexp.MustCompile(`%([^%]+)%`)

// str returns a binding property as a string ("" when absent).
func str(b map[string]any, key string) string {
	s, _ := b[key].(string)
	return s
}

func bindingLabel(fn function, b map[string]any) string {
	return fmt.Sprintf("%s: binding %q", fn.path, str(b, "name"))
}

// checkBindingSettings: every connection and %setting% of every binding is set
// in each place that sets settings.
func checkBindingSettings(fns []function, places []settings) []string {
	var problems []string
	for _, fn := range fns {
		for _, b := range fn.bindings {
			for _, s := range places {
				if conn := str(b, "connection"); conn != "" && !s.provides(conn) {
					problems = append(problems, fmt.Sprintf("%s: connection %s is not set in %s (neither %s nor %s__<endpoint>/__credential/__clientId)", bindingLabel(fn, b), conn, s.where, conn, conn))
				}
				for _, key := range sortedKeys(b) {
					v, _ := b[key].(string)
					for _, m := range settingRef.FindAllStringSubmatch(v, -1) {
						if !s.has(m[1]) {
							problems = append(problems, fmt.Sprintf("%s: %s refers to %%%s%%, not set in %s", bindingLabel(fn, b), key, m[1], s.where))
						}
					}
				}
			}
		}
	}
	return problems
}

// resolve expands %setting% references with a place's literal values.
func resolve(v string, s settings) (string, error) {
	var err error
	out := settingRef.ReplaceAllStringFunc(v, func(ref string) string {
		val, known := s.value(strings.Trim(ref, "%"))
		if !known || val == "" {
			err = fmt.Errorf("%s has no literal value in %s", ref, s.where)
		}
		return val
	})
	return out, err
}

func isCosmos(b map[string]any) bool {
	t := strings.ToLower(str(b, "type"))
	return t == "cosmosdbtrigger" || t == "cosmosdb"
}

// checkCosmosBindings: names resolve to the container definition, lease
// containers are on /id, lease prefixes are distinct per monitored container.
func checkCosmosBindings(fns []function, schema cosmosstore.Schema, places []settings) []string {
	containers := map[string]cosmosstore.Container{}
	for _, c := range schema.Containers {
		containers[c.Name] = c
	}
	var problems []string
	for _, s := range places {
		prefixes := map[string]string{} // database/container/prefix → function
		for _, fn := range fns {
			for _, b := range fn.bindings {
				if !isCosmos(b) {
					continue
				}
				ps, key := checkCosmosBinding(fn, b, schema, containers, s)
				problems = append(problems, ps...)
				if key == "" || !strings.EqualFold(str(b, "type"), "cosmosDBTrigger") {
					continue
				}
				if other, dup := prefixes[key]; dup {
					problems = append(problems, fmt.Sprintf("%s: leaseContainerPrefix %q on %s is already used by %s (in %s): only one of them would fire", bindingLabel(fn, b), str(b, "leaseContainerPrefix"), key[:strings.LastIndex(key, "|")], other, s.where))
					continue
				}
				prefixes[key] = fn.name
			}
		}
	}
	return problems
}

// checkCosmosBinding checks one binding in one place and returns the key
// "database/container|prefix" of a trigger ("" when unresolved).
func checkCosmosBinding(fn function, b map[string]any, schema cosmosstore.Schema, containers map[string]cosmosstore.Container, s settings) ([]string, string) {
	label := bindingLabel(fn, b)
	var problems []string
	names := map[string]string{}
	for _, prop := range []string{"databaseName", "containerName", "leaseContainerName", "leaseContainerPrefix"} {
		v, err := resolve(str(b, prop), s)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %s: %v", label, prop, err))
			return problems, ""
		}
		names[prop] = v
	}
	if names["databaseName"] != schema.Database {
		problems = append(problems, fmt.Sprintf("%s: databaseName resolves to %q in %s, but infra/containers.json defines database %q", label, names["databaseName"], s.where, schema.Database))
	}
	if _, ok := containers[names["containerName"]]; !ok {
		problems = append(problems, fmt.Sprintf("%s: containerName resolves to %q in %s, which is not a container of infra/containers.json", label, names["containerName"], s.where))
	}
	if !strings.EqualFold(str(b, "type"), "cosmosDBTrigger") {
		return problems, ""
	}
	lease, ok := containers[names["leaseContainerName"]]
	switch {
	case !ok:
		problems = append(problems, fmt.Sprintf("%s: leaseContainerName resolves to %q in %s, which is not a container of infra/containers.json", label, names["leaseContainerName"], s.where))
	case lease.PartitionKeyPath != "/id":
		problems = append(problems, fmt.Sprintf("%s: lease container %q is partitioned on %s; lease containers must be on /id", label, lease.Name, lease.PartitionKeyPath))
	}
	if create, _ := b["createLeaseContainerIfNotExists"].(bool); create {
		problems = append(problems, fmt.Sprintf("%s: createLeaseContainerIfNotExists must be false: the lease container comes from infra/containers.json and an identity-based connection cannot create containers", label))
	}
	return problems, names["databaseName"] + "/" + names["containerName"] + "|" + names["leaseContainerPrefix"]
}
