package infra

import (
	"fmt"
	"regexp"
	"strings"
)

// flexRejected are siteConfig properties a Flex Consumption site must not
// send (ARM rejects them in some regions): the runtime lives in
// functionAppConfig instead.
var flexRejected = []string{
	"linuxFxVersion", "windowsFxVersion", "netFrameworkVersion", "javaVersion",
	"powerShellVersion", "alwaysOn", "ftpsState", "use32BitWorkerProcess",
	"preWarmedInstanceCount", "functionsRuntimeScaleMonitoringEnabled", "functionAppScaleLimit",
}

var flexGuarded = regexp.MustCompile(`:\s*isFlex\s*\?\s*null\s*:`)

// checkFlexSiteConfig: each of those properties, where the function app
// module sets one, is null on Flex Consumption (`prop: isFlex ? null : v`).
func checkFlexSiteConfig(path string) []string {
	f, err := readBicep(path)
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	for i, l := range f.lines {
		m := propertyLine.FindStringSubmatch(l)
		if m == nil || !containsString(flexRejected, m[1]) || flexGuarded.MatchString(l) {
			continue
		}
		problems = append(problems, fmt.Sprintf("%s:%d: %s must be `isFlex ? null : ...`: Flex Consumption rejects it", path, i+1, strings.TrimSpace(m[1])))
	}
	return problems
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
