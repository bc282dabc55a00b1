package cosmos

import (
	"net/http"
	"net/url"
	"strings"
)

// route is a parsed request path: dbs/{db}/colls/{coll}/docs/{id}, or a
// prefix of it, or the account root.
type route struct {
	kind         string // account, dbs, db, colls, coll, pkranges, docs, doc
	db, coll, id string
	resourceType string // for the signature: the last resource type named
	resourceLink string // for the signature: the path up to the last id
}

var routeKinds = map[string]string{
	"": "account", "dbs": "dbs", "dbs/": "db", "dbs//colls": "colls", "dbs//colls/": "coll",
	"dbs//colls//pkranges": "pkranges", "dbs//colls//docs": "docs", "dbs//colls//docs/": "doc",
	"offers": "offers", "offers/": "offer",
}

func parseRoute(escapedPath string) (route, error) {
	raw := strings.Trim(escapedPath, "/")
	var segs []string
	if raw != "" {
		segs = strings.Split(raw, "/")
	}
	var buf [64]byte
	shape := buf[:0] // the path with its ids left out: "dbs//colls//docs"
	for i, s := range segs {
		v, err := url.PathUnescape(s)
		if err != nil || v == "" {
			return route{}, errBadRequest("The request path %s is invalid.", escapedPath)
		}
		segs[i] = v
		if i > 0 {
			shape = append(shape, '/')
		}
		if i%2 == 0 {
			shape = append(shape, v...)
		}
	}
	kind, ok := routeKinds[string(shape)]
	if !ok {
		return route{}, newError(http.StatusNotFound, "The resource path %s is not supported by the emulator.", escapedPath)
	}
	rt := route{kind: kind}
	rt.db, rt.coll, rt.id = at(segs, 1), at(segs, 3), at(segs, 5)
	rt.resourceType, rt.resourceLink = signedResource(segs)
	if kind == "offer" { // addressed by rid: signed with the lower-case rid alone
		rt.db, rt.id, rt.resourceLink = "", segs[1], strings.ToLower(segs[1])
	}
	return rt, nil
}

func at(segs []string, i int) string {
	if i < len(segs) {
		return segs[i]
	}
	return ""
}

func signedResource(segs []string) (resourceType, link string) {
	switch {
	case len(segs) == 0:
		return "", ""
	case len(segs)%2 == 0:
		return segs[len(segs)-2], strings.Join(segs, "/")
	default:
		return segs[len(segs)-1], strings.Join(segs[:len(segs)-1], "/")
	}
}
