package funchost

import (
	"fmt"
	"sort"
	"strings"
)

// router finds the HTTP-triggered function for a request path.
type router struct {
	prefix string // "api"
	funcs  []*function
}

func newRouter(prefix string, fns []*function) (*router, error) {
	rt := &router{prefix: prefix}
	for _, f := range fns {
		if f.HTTP == nil || f.HTTP.Route == nil {
			continue
		}
		if f.HTTP.Route.Template == "" {
			r, _ := parseRoute(f.Name) // a function name is a valid literal route
			f.HTTP.Route = r
		}
		rt.funcs = append(rt.funcs, f)
	}
	sort.SliceStable(rt.funcs, func(i, j int) bool { return rt.funcs[i].HTTP.Route.before(rt.funcs[j].HTTP.Route) })
	return rt, rt.checkConflicts()
}

// checkConflicts reports two functions answering the same route and method.
func (rt *router) checkConflicts() error {
	for i, a := range rt.funcs {
		for _, b := range rt.funcs[i+1:] {
			if a.HTTP.Route.shape() == b.HTTP.Route.shape() && methodsOverlap(a.HTTP, b.HTTP) {
				return fmt.Errorf("%s: route %q conflicts with the route of function %s", b.File, b.HTTP.Route.Template, a.Name)
			}
		}
	}
	return nil
}

func methodsOverlap(a, b *httpTrigger) bool {
	if len(a.Methods) == 0 || len(b.Methods) == 0 {
		return true
	}
	for _, m := range a.Methods {
		if b.allows(m) {
			return true
		}
	}
	return false
}

// find returns the function and route parameters for path and method.
// When no function answers the method but some answer the path, allow
// lists their methods (for a 405 with an Allow header).
func (rt *router) find(path, method string) (f *function, params map[string]string, allow []string) {
	rest, ok := rt.strip(path)
	if !ok || !cleanPath(path) {
		return nil, nil, nil
	}
	for _, fn := range rt.funcs {
		p, ok := fn.HTTP.Route.match(rest)
		if !ok {
			continue
		}
		if fn.HTTP.allows(method) {
			return fn, p, nil
		}
		allow = append(allow, fn.HTTP.Methods...)
	}
	return nil, nil, allowHeader(allow)
}

// allowHeader upper-cases, sorts and de-duplicates methods.
func allowHeader(methods []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range methods {
		if m = strings.ToUpper(m); !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return out
}

// cleanPath reports whether an escaped request path has no empty segment
// ("//") and no dot segment ("." or "..", also percent-encoded). Such paths
// are never cleaned and redirected: they match no route.
func cleanPath(escaped string) bool {
	parts := strings.Split(strings.TrimPrefix(escaped, "/"), "/")
	for i, p := range parts {
		seg := unescape(p)
		if (seg == "" && i != len(parts)-1) || strings.Contains(seg, "//") || strings.Contains(seg, "\\") {
			return false
		}
		for _, sub := range strings.Split(seg, "/") {
			if sub == "." || sub == ".." {
				return false
			}
		}
	}
	return true
}

// strip removes the route prefix ("/api/orders" -> "orders").
func (rt *router) strip(path string) (string, bool) {
	path = strings.TrimPrefix(path, "/")
	if rt.prefix == "" {
		return path, true
	}
	head, rest, _ := strings.Cut(path, "/")
	if !strings.EqualFold(head, rt.prefix) {
		return "", false
	}
	return rest, true
}

// url is the function's display URL for the console.
func (rt *router) url(base string, f *function) string {
	p := base + "/"
	if rt.prefix != "" {
		p += rt.prefix + "/"
	}
	return p + f.HTTP.Route.Template
}
