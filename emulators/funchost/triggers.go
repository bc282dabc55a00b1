package funchost

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// httpTrigger is a validated httpTrigger binding.
type httpTrigger struct {
	Name      string
	Methods   []string // upper case; empty = every method
	Route     *route
	AuthLevel string
}

func (t *httpTrigger) allows(method string) bool {
	if len(t.Methods) == 0 {
		return true
	}
	for _, m := range t.Methods {
		if m == method {
			return true
		}
	}
	return false
}

var authLevels = map[string]bool{"anonymous": true, "function": true, "admin": true, "user": true, "system": true}

func readHTTPTrigger(b *bindingReader, name string) *httpTrigger {
	t := &httpTrigger{Name: name, AuthLevel: strings.ToLower(b.str("authLevel", false, false))}
	switch {
	case t.AuthLevel == "":
		t.AuthLevel = "function" // the host's default, as on Azure
	case t.AuthLevel == "user":
		b.fail("authLevel \"user\" needs App Service Authentication, which the local host does not have")
	case !authLevels[t.AuthLevel]:
		b.fail("authLevel %q is not one of anonymous, function, admin", t.AuthLevel)
	}
	for _, m := range b.strs("methods") {
		t.Methods = append(t.Methods, strings.ToUpper(m))
		if !knownMethod(strings.ToUpper(m)) {
			b.fail("method %q is not an HTTP method", m)
		}
	}
	tmpl := b.str("route", false, false)
	if strings.HasPrefix(strings.ToLower(trimSlashes(tmpl)), "admin") {
		b.fail("route %q conflicts with the host's built-in admin routes", tmpl)
	}
	b.ignore("dataType")
	b.hints = map[string]string{"webhooktype": "webhook triggers are a v1 feature"}
	r, err := parseRoute(tmpl)
	if err != nil {
		b.fail("%v", err)
		return t
	}
	t.Route = r
	return t
}

func knownMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodTrace, http.MethodConnect:
		return true
	}
	return false
}

// cosmosTrigger is a validated cosmosDBTrigger binding (extension v4 names).
type cosmosTrigger struct {
	Name                 string
	Connection           string // app setting name
	Database, Container  string
	LeaseConnection      string
	LeaseDatabase        string
	LeaseContainer       string
	LeasePrefix          string
	CreateLeaseContainer bool
	FeedPollDelay        time.Duration
	MaxItems             int
	StartFromBeginning   bool
	StartFromTime        *time.Time
	LeaseExpiration      time.Duration
	LeaseRenew           time.Duration
	LeaseAcquire         time.Duration
}

// Defaults of the Cosmos DB extension (ChangeFeedProcessor options).
const (
	defaultFeedPollDelay   = 5 * time.Second
	defaultLeaseExpiration = 60 * time.Second
	defaultLeaseRenew      = 17 * time.Second
	defaultLeaseAcquire    = 13 * time.Second
)

// v3Names maps extension v3 property names to their v4 replacements.
var v3Names = map[string]string{
	"collectionname":                   "containerName",
	"leasecollectionname":              "leaseContainerName",
	"leasecollectionprefix":            "leaseContainerPrefix",
	"createleasecollectionifnotexists": "createLeaseContainerIfNotExists",
	"connectionstringsetting":          "connection",
	"leaseconnectionstringsetting":     "leaseConnection",
	"leasescollectionthroughput":       "leasesContainerThroughput",
}

func readCosmosTrigger(b *bindingReader, name string) *cosmosTrigger {
	b.hints = map[string]string{}
	for old, repl := range v3Names {
		b.hints[old] = fmt.Sprintf("that is the Cosmos DB extension v3 name; use %q", repl)
	}
	t := &cosmosTrigger{
		Name:                 name,
		Connection:           b.str("connection", true, true),
		Database:             b.str("databaseName", true, false),
		Container:            b.str("containerName", true, false),
		LeaseConnection:      b.str("leaseConnection", false, true),
		LeaseDatabase:        b.str("leaseDatabaseName", false, false),
		LeaseContainer:       b.str("leaseContainerName", false, false),
		LeasePrefix:          b.str("leaseContainerPrefix", false, false),
		CreateLeaseContainer: b.boolean("createLeaseContainerIfNotExists"),
		StartFromBeginning:   b.boolean("startFromBeginning"),
	}
	for key, v := range map[string]string{"databaseName": t.Database, "containerName": t.Container, "leaseContainerName": t.LeaseContainer, "leaseDatabaseName": t.LeaseDatabase} {
		b.notEmpty(key, v)
	}
	t.applyDefaults()
	t.readTimings(b)
	t.readStartFromTime(b)
	b.ignore("leasesContainerThroughput", "preferredLocations", "dataType")
	return t
}

func (t *cosmosTrigger) applyDefaults() {
	if t.LeaseConnection == "" {
		t.LeaseConnection = t.Connection
	}
	if t.LeaseDatabase == "" {
		t.LeaseDatabase = t.Database
	}
	if t.LeaseContainer == "" {
		t.LeaseContainer = "leases"
	}
}

func (t *cosmosTrigger) readTimings(b *bindingReader) {
	ms := func(key string, def time.Duration) time.Duration {
		n, ok := b.integer(key)
		if !ok {
			return def
		}
		if n <= 0 {
			b.fail("property %q must be a positive number of milliseconds", key)
		}
		return time.Duration(n) * time.Millisecond
	}
	t.FeedPollDelay = ms("feedPollDelay", defaultFeedPollDelay)
	t.LeaseExpiration = ms("leaseExpirationInterval", defaultLeaseExpiration)
	t.LeaseRenew = ms("leaseRenewInterval", defaultLeaseRenew)
	t.LeaseAcquire = ms("leaseAcquireInterval", defaultLeaseAcquire)
	if t.LeaseRenew >= t.LeaseExpiration {
		b.fail("leaseRenewInterval must be shorter than leaseExpirationInterval")
	}
	if n, ok := b.integer("maxItemsPerInvocation"); ok {
		if n <= 0 {
			b.fail("property \"maxItemsPerInvocation\" must be positive")
		}
		t.MaxItems = n
	}
}

func (t *cosmosTrigger) readStartFromTime(b *bindingReader) {
	s := b.str("startFromTime", false, false)
	if s == "" {
		return
	}
	if t.StartFromBeginning {
		b.fail("startFromTime and startFromBeginning cannot both be set")
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if at, err := time.Parse(layout, s); err == nil {
			t.StartFromTime = &at
			return
		}
	}
	b.fail("startFromTime %q is not an ISO 8601 time such as 2021-02-16T14:19:29Z", s)
}

// checkLeasePrefixes reports two functions sharing one lease scope: on
// Azure only one of them would fire.
func checkLeasePrefixes(fns []*function) []error {
	seen := map[string]string{}
	var errs []error
	for _, f := range fns {
		if f.Cosmos == nil {
			continue
		}
		c := f.Cosmos
		key := strings.Join([]string{c.LeaseConnection, c.LeaseDatabase, c.LeaseContainer, c.LeasePrefix}, "|")
		if other, ok := seen[key]; ok {
			errs = append(errs, fmt.Errorf("%s: leaseContainerPrefix %q is also used by %s on the same lease container; give each function its own prefix or only one of them fires", f.File, c.LeasePrefix, other))
		}
		seen[key] = f.Name
	}
	return errs
}
