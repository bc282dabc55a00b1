package funchost

import (
	"fmt"
	"net/url"
	"strings"
)

// route is a parsed ASP.NET-style route template such as
// "orders/{id}", "items/{id:int}", "files/{*path}" or "a/{b?}".
type route struct {
	Template string
	segments []segment
}

type segment struct {
	Literal     string // when not a parameter
	Param       string
	Constraints []constraint
	Optional    bool
	CatchAll    bool
	Default     *string
}

// rank orders segments the way ASP.NET routing does: literals first,
// then constrained parameters, plain parameters, optional, catch-all.
func (s segment) rank() int {
	switch {
	case s.Param == "":
		return 1
	case s.CatchAll:
		return 5
	case s.Optional || s.Default != nil:
		return 4
	case len(s.Constraints) > 0:
		return 2
	default:
		return 3
	}
}

func parseRoute(template string) (*route, error) {
	template = trimSlashes(template)
	r := &route{Template: template}
	if template == "" {
		return r, nil
	}
	parts := strings.Split(template, "/")
	for i, p := range parts {
		seg, err := parseSegment(p)
		if err != nil {
			return nil, fmt.Errorf("route %q: %w", template, err)
		}
		if seg.CatchAll && i != len(parts)-1 {
			return nil, fmt.Errorf("route %q: a catch-all parameter must be the last segment", template)
		}
		r.segments = append(r.segments, seg)
	}
	return r, r.checkOptionals()
}

func (r *route) checkOptionals() error {
	seen := false
	for _, s := range r.segments {
		if s.Optional || s.Default != nil || s.CatchAll {
			seen = true
		} else if seen {
			return fmt.Errorf("route %q: only the trailing segments may be optional", r.Template)
		}
	}
	return nil
}

func parseSegment(p string) (segment, error) {
	if p == "" {
		return segment{}, fmt.Errorf("empty segment")
	}
	if !strings.HasPrefix(p, "{") {
		if strings.ContainsAny(p, "{}") {
			return segment{}, fmt.Errorf("segment %q mixes text and parameters; the local host supports whole-segment parameters only", p)
		}
		return segment{Literal: p}, nil
	}
	if !strings.HasSuffix(p, "}") {
		return segment{}, fmt.Errorf("segment %q: missing '}'", p)
	}
	return parseParam(p[1 : len(p)-1])
}

func parseParam(body string) (segment, error) {
	var s segment
	if strings.HasPrefix(body, "**") || strings.HasPrefix(body, "*") {
		s.CatchAll = true
		body = strings.TrimLeft(body, "*")
	}
	name, rest := splitParamName(body)
	if strings.HasSuffix(name, "?") {
		s.Optional, name = true, strings.TrimSuffix(name, "?")
	}
	if i := strings.Index(name, "="); i >= 0 {
		def := name[i+1:]
		s.Default, name = &def, name[:i]
	}
	if name == "" {
		return s, fmt.Errorf("parameter %q has no name", body)
	}
	s.Param = name
	cons, optional, err := parseConstraints(rest)
	if err != nil {
		return s, fmt.Errorf("parameter %q: %w", name, err)
	}
	s.Constraints, s.Optional = cons, s.Optional || optional
	return s, nil
}

// splitParamName splits "id:int" into "id" and ":int".
func splitParamName(body string) (name, rest string) {
	if i := strings.Index(body, ":"); i >= 0 {
		return body[:i], body[i:]
	}
	return body, ""
}

// match matches the path below the route prefix and returns the route
// parameters, or ok=false.
func (r *route) match(path string) (map[string]string, bool) {
	path = trimSlashes(path)
	var parts []string
	if path != "" {
		parts = strings.Split(path, "/")
	}
	params := map[string]string{}
	for i, seg := range r.segments {
		if seg.CatchAll {
			if rest := strings.Join(parts[min(i, len(parts)):], "/"); rest != "" || seg.Optional {
				params[seg.Param] = unescape(rest)
			}
			return params, constraintsHold(seg, params[seg.Param])
		}
		if i >= len(parts) {
			if !seg.Optional && seg.Default == nil {
				return nil, false
			}
			if seg.Default != nil {
				params[seg.Param] = *seg.Default
			}
			continue
		}
		if !seg.matchOne(parts[i], params) {
			return nil, false
		}
	}
	return params, len(parts) <= len(r.segments)
}

func (s segment) matchOne(part string, params map[string]string) bool {
	if s.Param == "" {
		return strings.EqualFold(s.Literal, unescape(part))
	}
	v := unescape(part)
	if !constraintsHold(s, v) {
		return false
	}
	params[s.Param] = v
	return true
}

func constraintsHold(s segment, v string) bool {
	for _, c := range s.Constraints {
		if !c.ok(v) {
			return false
		}
	}
	return true
}

// before reports whether r should be tried before o.
func (r *route) before(o *route) bool {
	for i := 0; i < len(r.segments) && i < len(o.segments); i++ {
		if a, b := r.segments[i].rank(), o.segments[i].rank(); a != b {
			return a < b
		}
	}
	return len(r.segments) > len(o.segments)
}

// shape is the template with parameter names erased, to find duplicates.
func (r *route) shape() string {
	var b strings.Builder
	for _, s := range r.segments {
		b.WriteString("/")
		if s.Param == "" {
			b.WriteString(strings.ToLower(s.Literal))
			continue
		}
		b.WriteString("{")
		for _, c := range s.Constraints {
			b.WriteString(c.text + ";")
		}
		b.WriteString("}")
	}
	return b.String()
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

func trimSlashes(s string) string { return strings.Trim(s, "/") }
