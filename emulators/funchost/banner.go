package funchost

import (
	"fmt"
	"strings"
)

// functionInfo is one row of GET /admin/functions.
type functionInfo struct {
	Name    string   `json:"name"`
	Trigger string   `json:"trigger"`
	URL     string   `json:"url,omitempty"`
	Methods []string `json:"methods,omitempty"`
}

func (h *Host) functionList() []functionInfo {
	base := "http://" + h.ln.Addr().String()
	var out []functionInfo
	for _, f := range h.fns {
		fi := functionInfo{Name: f.Name, Trigger: f.triggerType()}
		if f.HTTP != nil {
			fi.URL, fi.Methods = h.rt.url(base, f), f.HTTP.Methods
		}
		out = append(out, fi)
	}
	return out
}

// banner prints the functions and their URLs like Core Tools does.
func (h *Host) banner() {
	var b strings.Builder
	b.WriteString("\nFunctions:\n\n")
	for _, fi := range h.functionList() {
		if fi.URL != "" {
			methods := "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS"
			if len(fi.Methods) > 0 {
				methods = strings.Join(fi.Methods, ",")
			}
			fmt.Fprintf(&b, "\t%s: [%s] %s\n\n", fi.Name, methods, fi.URL+h.codeQuery(fi.Name))
			continue
		}
		fmt.Fprintf(&b, "\t%s: %s\n\n", fi.Name, h.triggerDetail(fi.Name))
	}
	b.WriteString("Host started. Press Ctrl+C to stop.\n")
	h.con.raw(b.String())
}

// codeQuery is "?code=<key>" for a function that needs a key, as the
// portal's "Get function URL" gives it: its own key, or the master key
// for authLevel admin.
func (h *Host) codeQuery(name string) string {
	for _, f := range h.fns {
		if f.Name != name || f.HTTP == nil {
			continue
		}
		switch authLevelOf(f.HTTP.AuthLevel) {
		case levelAnonymous:
			return ""
		case levelFunction:
			return "?code=" + h.FunctionKey(name)
		default:
			return "?code=" + h.MasterKey()
		}
	}
	return ""
}

func (h *Host) triggerDetail(name string) string {
	for _, f := range h.fns {
		if f.Name == name && f.Cosmos != nil {
			c := f.Cosmos
			return fmt.Sprintf("cosmosDBTrigger (%s/%s, leases %s/%s prefix %q)", c.Database, c.Container, c.LeaseDatabase, c.LeaseContainer, c.LeasePrefix)
		}
	}
	return "unknown"
}
