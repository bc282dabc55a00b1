package infra

// Where app settings are set, and the rule that decides whether a setting the
// code needs is set there.

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/ordersflow/orderpipeline/shared/cosmosstore"
)

// hostProvided are settings the Functions host gives the handler process
// itself; no app setting (Bicep) or local.settings.json entry sets them.
var hostProvided = map[string]string{
	"FUNCTIONS_CUSTOMHANDLER_PORT": "the host picks the port and passes it to the handler it starts",
}

// settings is one place that sets app settings: the function app in Bicep
// (one per hosting plan) or local.settings.json.example. values holds each
// key's value when it is a literal (or resolves to one), "" otherwise.
type settings struct {
	where  string
	values map[string]string
	known  map[string]bool
}

func newSettings(where string) settings {
	return settings{where: where, values: map[string]string{}, known: map[string]bool{}}
}

func (s settings) set(key, value string, known bool) {
	s.values[key] = value
	s.known[key] = known
}

func (s settings) has(key string) bool {
	_, ok := s.values[key]
	return ok
}

// value returns a setting's value when it is known.
func (s settings) value(key string) (string, bool) {
	return s.values[key], s.known[key]
}

// identityEndpoints are the suffixes that name the service of an
// identity-based connection <NAME>__<suffix> (Functions host conventions).
var identityEndpoints = []string{
	"accountEndpoint", "fullyQualifiedNamespace", "accountName",
	"serviceUri", "blobServiceUri", "queueServiceUri", "tableServiceUri",
}

// provides reports whether key is set here. The rule: a key is set when it is
// present, or — for a connection name such as COSMOS or SERVICEBUS, whose
// connection-string form Azure deliberately lacks — when its identity-based
// sibling group is complete: <key>__<endpoint> for one endpoint suffix,
// <key>__credential = managedidentity and <key>__clientId (the app runs as a
// user-assigned identity, so the client id is required). Both the Functions
// host and shared/config accept either form.
func (s settings) provides(key string) bool {
	if s.has(key) {
		return true
	}
	return s.identityGroup(key)
}

func (s settings) identityGroup(key string) bool {
	endpoint := false
	for _, suffix := range identityEndpoints {
		endpoint = endpoint || s.has(key+"__"+suffix)
	}
	cred, known := s.value(key + "__credential")
	return endpoint && known && cred == "managedidentity" && s.has(key+"__clientId")
}

// missing lists the keys not provided here, host-provided keys excepted.
func (s settings) missing(keys []string) []string {
	var out []string
	for _, k := range keys {
		if _, ok := hostProvided[k]; !ok && !s.provides(k) {
			out = append(out, k)
		}
	}
	return out
}

// loadLocalSettings reads the Values of a local.settings.json(.example).
func loadLocalSettings(path string) (settings, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return settings{}, err
	}
	var doc struct {
		Values map[string]string `json:"Values"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return settings{}, fmt.Errorf("decode %s: %w", path, err)
	}
	s := newSettings(path)
	for k, v := range doc.Values {
		s.set(k, v, true)
	}
	return s, nil
}

var (
	unionLine       = regexp.MustCompile(`^union\((.*)\)$`)
	premiumOnlyArg  = regexp.MustCompile(`^isFlex\s*\?\s*\{\}\s*:\s*(\w+)$`)
	identifierArg   = regexp.MustCompile(`^\w+$`)
	containersFrom  = regexp.MustCompile(`^toObject\(\s*schema\.containers\s*,\s*c\s*=>\s*c\.setting\s*,\s*c\s*=>\s*c\.name\s*\)$`)
	schemaFromJSON  = regexp.MustCompile(`^loadJsonContent\('\.\./containers\.json'\)$`)
	schemaDatabase  = "schema.database"
	hostingPlanKeys = []string{"FlexConsumption", "ElasticPremium"}
)

// loadBicepSettings reads the app settings of the function app module, one
// settings per hosting plan: `var appSettings = union(a, b, isFlex ? {} : p)`
// where each argument is an object literal var, or containerSettings derived
// from infra/containers.json.
func loadBicepSettings(path string, schema cosmosstore.Schema) (map[string]settings, error) {
	f, err := readBicep(path)
	if err != nil {
		return nil, err
	}
	expr, ok := f.varExpr("appSettings")
	m := unionLine.FindStringSubmatch(expr)
	if !ok || m == nil {
		return nil, fmt.Errorf("%s: want `var appSettings = union(...)`, got %q", path, expr)
	}
	out := map[string]settings{}
	for _, plan := range hostingPlanKeys {
		out[plan] = newSettings(fmt.Sprintf("%s (%s)", path, plan))
	}
	for _, arg := range strings.Split(m[1], ",") {
		arg = strings.TrimSpace(arg)
		plans := hostingPlanKeys
		if pm := premiumOnlyArg.FindStringSubmatch(arg); pm != nil {
			arg, plans = pm[1], []string{"ElasticPremium"}
		} else if !identifierArg.MatchString(arg) {
			return nil, fmt.Errorf("%s: appSettings argument %q is neither a var nor `isFlex ? {} : var`", path, arg)
		}
		if err := addSettingsVar(f, arg, schema, plans, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func addSettingsVar(f bicepFile, name string, schema cosmosstore.Schema, plans []string, out map[string]settings) error {
	if expr, ok := f.varExpr(name); ok && containersFrom.MatchString(expr) {
		if e, _ := f.varExpr("schema"); !schemaFromJSON.MatchString(e) {
			return fmt.Errorf("%s: %s derives from schema, but schema is not loadJsonContent('../containers.json')", f.path, name)
		}
		for _, plan := range plans {
			for _, c := range schema.Containers {
				out[plan].set(c.Setting, c.Name, true)
			}
		}
		return nil
	}
	props, err := f.objectVar(name)
	if err != nil {
		return err
	}
	for _, plan := range plans {
		for k, expr := range props {
			v, known := stringLiteral(expr)
			if expr == schemaDatabase {
				v, known = schema.Database, true
			}
			out[plan].set(k, v, known)
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
