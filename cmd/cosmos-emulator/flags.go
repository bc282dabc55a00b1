package main

import (
	"fmt"
	"strconv"
	"strings"
)

// parsePartitions reads "name=n,name=n"; a name is a container id or
// "database/container".
func parsePartitions(v string) (map[string]int, error) {
	out := map[string]int{}
	for _, pair := range strings.Split(v, ",") {
		name, n, ok := strings.Cut(strings.TrimSpace(pair), "=")
		count, err := strconv.Atoi(n)
		if !ok || name == "" || err != nil {
			return nil, fmt.Errorf("%q: want name=count", pair)
		}
		out[name] = count
	}
	return out, nil
}
