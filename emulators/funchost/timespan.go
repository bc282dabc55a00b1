package funchost

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// timeSpanRE matches .NET TimeSpan's invariant format: [-][d.]hh:mm[:ss[.fffffff]].
var timeSpanRE = regexp.MustCompile(`^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?$`)

// parseTimeSpan parses a .NET TimeSpan string such as "00:00:00.200",
// "00:00:10" or "1.02:00:00", or a bare number of days, as host.json and the
// retry section of function.json use them.
func parseTimeSpan(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, err := strconv.Atoi(s); err == nil {
		return time.Duration(days) * 24 * time.Hour, nil
	}
	m := timeSpanRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a TimeSpan (want [d.]hh:mm:ss[.fff])", s)
	}
	d := time.Duration(atoi(m[2]))*24*time.Hour +
		time.Duration(atoi(m[3]))*time.Hour +
		time.Duration(atoi(m[4]))*time.Minute +
		time.Duration(atoi(m[5]))*time.Second
	if atoi(m[3]) > 23 || atoi(m[4]) > 59 || atoi(m[5]) > 59 {
		return 0, fmt.Errorf("%q is not a TimeSpan: a field is out of range", s)
	}
	if frac := m[6]; frac != "" {
		frac += strings.Repeat("0", 7-len(frac)) // 100 ns ticks
		d += time.Duration(atoi(frac)) * 100 * time.Nanosecond
	}
	if m[1] == "-" {
		d = -d
	}
	return d, nil
}

// formatTimeSpan renders d the way .NET prints a TimeSpan ("00:05:00").
func formatTimeSpan(d time.Duration) string {
	h := int(d / time.Hour)
	m := int(d/time.Minute) % 60
	s := int(d/time.Second) % 60
	out := fmt.Sprintf("%02d:%02d:%02d", h, m, s)
	if frac := d % time.Second; frac != 0 {
		out += fmt.Sprintf(".%07d", int(frac/100))
	}
	return out
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s) // callers pass regexp-validated digits or ""
	return n
}
