package infra

// No key, connection string or secret in Bicep, its parameters or outputs,
// and local/shared-key auth off on every service.

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

var (
	// ARM list* functions (listKeys, listConnectionStrings, listAccountSas…)
	// return keys or secrets; identity-based access needs none of them.
	listFunction = regexp.MustCompile(`\blist[A-Z][A-Za-z]*\s*\(`)
	// Key material written out.
	keyLiteral = regexp.MustCompile(`(?i)(AccountKey|SharedAccessKey|SharedAccessSignature)\s*=`)
	outputDecl = regexp.MustCompile(`^output\s+(\w+)\s+\S+\s*=\s*(.*)$`)
	// An output named or computed like a secret.
	secretName = regexp.MustCompile(`(?i)connection_?string|key|secret|password|token|sas`)
	secretExpr = regexp.MustCompile(`(?i)connectionstring|primarykey|secondarykey|masterkey|\.keys\b`)
	// Turning key auth back on.
	keyAuthOn = regexp.MustCompile(`(?i)\b(disableLocalAuth\s*:\s*false|allowSharedKeyAccess\s*:\s*true)`)
)

// checkNoSecrets scans Bicep files line by line.
func checkNoSecrets(paths []string) []string {
	var problems []string
	for _, p := range paths {
		f, err := readBicep(p)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		for i, line := range f.lines {
			at := fmt.Sprintf("%s:%d", p, i+1)
			trimmed := strings.TrimSpace(line)
			switch {
			case listFunction.MatchString(line):
				problems = append(problems, fmt.Sprintf("%s: %s reads keys or secrets; use the managed identity instead", at, listFunction.FindString(line)))
			case keyLiteral.MatchString(line):
				problems = append(problems, fmt.Sprintf("%s: key material in Bicep", at))
			case keyAuthOn.MatchString(line):
				problems = append(problems, fmt.Sprintf("%s: %s turns key authentication on", at, keyAuthOn.FindString(line)))
			case strings.HasPrefix(trimmed, "@secure()"):
				problems = append(problems, fmt.Sprintf("%s: @secure(): this template takes and returns no secrets", at))
			}
			if m := outputDecl.FindStringSubmatch(trimmed); m != nil && (secretName.MatchString(m[1]) || secretExpr.MatchString(m[2])) {
				problems = append(problems, fmt.Sprintf("%s: output %s exposes a key or connection string", at, m[1]))
			}
		}
	}
	return problems
}

// checkParameterFiles: parameter files set only parameters of main.bicep, set
// every parameter without a default, and carry no key material.
func checkParameterFiles(mainPath string, paramFiles []string) []string {
	main, err := readBicep(mainPath)
	if err != nil {
		return []string{err.Error()}
	}
	declared := main.params()
	var problems []string
	for _, p := range paramFiles {
		given, err := parameterNames(p)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		for _, name := range sortedKeys(given) {
			if _, ok := declared[name]; !ok {
				problems = append(problems, fmt.Sprintf("%s: parameter %s is not a param of %s", p, name, mainPath))
			}
			if secretName.MatchString(name) {
				problems = append(problems, fmt.Sprintf("%s: parameter %s looks like a secret", p, name))
			}
		}
		for _, name := range sortedKeys(declared) {
			if _, ok := given[name]; !declared[name] && !ok {
				problems = append(problems, fmt.Sprintf("%s: required parameter %s of %s is not set", p, name, mainPath))
			}
		}
		if b, _ := os.ReadFile(p); keyLiteral.Match(b) {
			problems = append(problems, fmt.Sprintf("%s: key material in a parameter file", p))
		}
	}
	return problems
}

// requiredLines: each file must contain each line (trimmed), e.g. the
// disableLocalAuth of its service.
func requiredLines(want map[string][]string) []string {
	var problems []string
	for _, p := range sortedKeys(want) {
		f, err := readBicep(p)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		have := map[string]bool{}
		for _, l := range f.lines {
			have[strings.TrimSpace(l)] = true
		}
		for _, w := range want[p] {
			if !have[w] {
				problems = append(problems, fmt.Sprintf("%s: missing `%s`", p, w))
			}
		}
	}
	return problems
}
