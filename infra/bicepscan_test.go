package infra

// A light lexical reading of .bicep files for the consistency checks: comments
// stripped, strings respected, object literals read line by line. It is not a
// Bicep parser (tree-sitter does the syntax check); it relies on the layout
// the Bicep in this directory uses, one property per line.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// bicepFile is one .bicep file with its comments blanked out, so line numbers
// still match the file.
type bicepFile struct {
	path  string
	lines []string
}

func readBicep(path string) (bicepFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return bicepFile{}, err
	}
	return bicepFile{path: path, lines: strings.Split(stripComments(string(b)), "\n")}, nil
}

// stripComments blanks // and /* */ comments outside single-quoted and
// triple-quoted strings, keeping newlines.
func stripComments(src string) string {
	var out strings.Builder
	for i := 0; i < len(src); {
		switch {
		case strings.HasPrefix(src[i:], "'''"):
			end := strings.Index(src[i+3:], "'''")
			if end < 0 {
				end = len(src) - i - 6
			}
			out.WriteString(src[i : i+3+end+3])
			i += 3 + end + 3
		case src[i] == '\'':
			j := i + 1
			for j < len(src) && src[j] != '\'' && src[j] != '\n' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(src))
			out.WriteString(src[i:j])
			i = j
		case strings.HasPrefix(src[i:], "//"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				end = len(src) - i - 4
			}
			out.WriteString(strings.Repeat("\n", strings.Count(src[i:i+2+end+2], "\n")))
			i += 2 + end + 2
		default:
			out.WriteByte(src[i])
			i++
		}
	}
	return out.String()
}

var propertyLine = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*|'[^']*')\s*:\s*(.*?)\s*$`)

// objectVar returns the top-level properties (name → value expression) of
// `var <name> = { ... }`, written one property per line.
func (f bicepFile) objectVar(name string) (map[string]string, error) {
	start := -1
	head := regexp.MustCompile(`^var\s+` + regexp.QuoteMeta(name) + `\s*=\s*\{\s*$`)
	for i, l := range f.lines {
		if head.MatchString(l) {
			start = i
			break
		}
	}
	if start < 0 {
		return nil, fmt.Errorf("%s: no `var %s = {` object literal", f.path, name)
	}
	props := map[string]string{}
	depth := 1
	for _, l := range f.lines[start+1:] {
		if depth == 1 {
			if m := propertyLine.FindStringSubmatch(l); m != nil {
				props[strings.Trim(m[1], "'")] = m[2]
			}
		}
		depth += nesting(l)
		if depth <= 0 {
			return props, nil
		}
	}
	return nil, fmt.Errorf("%s: `var %s` object is not closed", f.path, name)
}

// nesting is how much a line opens ({ [ ( minus closes), outside strings.
func nesting(line string) int {
	n, inString := 0, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'':
			inString = !inString
		case inString && c == '\\':
			i++
		case inString:
		case c == '{' || c == '[' || c == '(':
			n++
		case c == '}' || c == ']' || c == ')':
			n--
		}
	}
	return n
}

// varExpr returns the one-line expression of `var <name> = <expr>`.
func (f bicepFile) varExpr(name string) (string, bool) {
	re := regexp.MustCompile(`^var\s+` + regexp.QuoteMeta(name) + `\s*=\s*(.+?)\s*$`)
	for _, l := range f.lines {
		if m := re.FindStringSubmatch(l); m != nil {
			return m[1], true
		}
	}
	return "", false
}

var paramLine = regexp.MustCompile(`^param\s+([A-Za-z_][A-Za-z0-9_]*)\s+[^=]+?(=.*)?$`)

// params returns each `param` of the file and whether it has a default.
func (f bicepFile) params() map[string]bool {
	out := map[string]bool{}
	for _, l := range f.lines {
		if m := paramLine.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
			out[m[1]] = m[2] != ""
		}
	}
	return out
}

// stringLiteral returns the text of a plain Bicep string ('...' without
// interpolation).
func stringLiteral(expr string) (string, bool) {
	if len(expr) >= 2 && expr[0] == '\'' && expr[len(expr)-1] == '\'' && !strings.Contains(expr, "${") {
		return expr[1 : len(expr)-1], true
	}
	return "", false
}

// bicepFiles lists every .bicep file under dir, testdata excluded.
func bicepFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".bicep") {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}
