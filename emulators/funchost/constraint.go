package funchost

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// constraint is one inline route constraint ("int", "min(1)", "regex(^a$)").
type constraint struct {
	text string
	ok   func(string) bool
}

// parseConstraints parses ":int:min(1)" (and a trailing "?" for optional).
func parseConstraints(rest string) ([]constraint, bool, error) {
	var out []constraint
	optional := false
	for rest != "" {
		if rest == "?" {
			return out, true, nil
		}
		if rest[0] != ':' {
			return nil, false, fmt.Errorf("unexpected %q", rest)
		}
		text, next, err := cutConstraint(rest[1:])
		if err != nil {
			return nil, false, err
		}
		c, err := newConstraint(text)
		if err != nil {
			return nil, false, err
		}
		out, rest = append(out, c), next
	}
	return out, optional, nil
}

// cutConstraint reads one constraint, keeping ':' inside parentheses.
func cutConstraint(s string) (text, rest string, err error) {
	depth := 0
	for i, r := range s {
		switch {
		case r == '(':
			depth++
		case r == ')':
			depth--
		case depth == 0 && (r == ':' || (r == '?' && i == len(s)-1)):
			return s[:i], s[i:], nil
		}
	}
	if depth != 0 {
		return "", "", fmt.Errorf("constraint %q: unbalanced parentheses", s)
	}
	return s, "", nil
}

func newConstraint(text string) (constraint, error) {
	name, arg, hasArg := strings.Cut(text, "(")
	if hasArg {
		if !strings.HasSuffix(arg, ")") {
			return constraint{}, fmt.Errorf("constraint %q: missing ')'", text)
		}
		arg = strings.TrimSuffix(arg, ")")
	}
	if f, ok := simpleConstraints[strings.ToLower(name)]; ok && !hasArg {
		return constraint{text: strings.ToLower(name), ok: f}, nil
	}
	f, err := argConstraint(strings.ToLower(name), arg)
	if err != nil {
		return constraint{}, fmt.Errorf("constraint %q: %w", text, err)
	}
	return constraint{text: text, ok: f}, nil
}

var simpleConstraints = map[string]func(string) bool{
	"int":      func(v string) bool { _, err := strconv.ParseInt(v, 10, 32); return err == nil },
	"long":     func(v string) bool { _, err := strconv.ParseInt(v, 10, 64); return err == nil },
	"bool":     func(v string) bool { l := strings.ToLower(v); return l == "true" || l == "false" },
	"guid":     func(v string) bool { _, err := uuid.Parse(strings.Trim(v, "{}()")); return err == nil },
	"alpha":    regexp.MustCompile(`^[A-Za-z]+$`).MatchString,
	"double":   isFloat,
	"float":    isFloat,
	"decimal":  isFloat,
	"datetime": isDateTime,
	"required": func(v string) bool { return v != "" },
}

func isFloat(v string) bool { _, err := strconv.ParseFloat(v, 64); return err == nil }

func isDateTime(v string) bool {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02", "2006-01-02 15:04:05"} {
		if _, err := time.Parse(layout, v); err == nil {
			return true
		}
	}
	return false
}

func argConstraint(name, arg string) (func(string) bool, error) {
	if name == "regex" {
		re, err := regexp.Compile("(?i)" + arg)
		if err != nil {
			return nil, err
		}
		return re.MatchString, nil
	}
	nums, err := intArgs(arg)
	if err != nil {
		return nil, err
	}
	return numericConstraint(name, nums)
}

func numericConstraint(name string, n []int64) (func(string) bool, error) {
	num := func(v string) (int64, bool) { x, err := strconv.ParseInt(v, 10, 64); return x, err == nil }
	switch {
	case name == "min" && len(n) == 1:
		return func(v string) bool { x, ok := num(v); return ok && x >= n[0] }, nil
	case name == "max" && len(n) == 1:
		return func(v string) bool { x, ok := num(v); return ok && x <= n[0] }, nil
	case name == "range" && len(n) == 2:
		return func(v string) bool { x, ok := num(v); return ok && x >= n[0] && x <= n[1] }, nil
	case name == "length" && len(n) == 1:
		return func(v string) bool { return int64(len([]rune(v))) == n[0] }, nil
	case name == "length" && len(n) == 2:
		return func(v string) bool { l := int64(len([]rune(v))); return l >= n[0] && l <= n[1] }, nil
	case name == "minlength" && len(n) == 1:
		return func(v string) bool { return int64(len([]rune(v))) >= n[0] }, nil
	case name == "maxlength" && len(n) == 1:
		return func(v string) bool { return int64(len([]rune(v))) <= n[0] }, nil
	}
	return nil, fmt.Errorf("unknown constraint or wrong number of arguments")
}

func intArgs(arg string) ([]int64, error) {
	var out []int64
	for _, a := range strings.Split(arg, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("argument %q is not a whole number", a)
		}
		out = append(out, n)
	}
	return out, nil
}
