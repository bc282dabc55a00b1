package cosmos

import (
	"cmp"
	"fmt"
	"slices"
)

var consistencyLevels = []string{"Strong", "BoundedStaleness", "Session", "ConsistentPrefix", "Eventual"}

// withDefaults fills in and checks the options.
func (o Options) withDefaults() (Options, error) {
	o.Addr = cmp.Or(o.Addr, "127.0.0.1:0")
	o.Key = cmp.Or(o.Key, DefaultKey)
	o.Consistency = cmp.Or(o.Consistency, "Session")
	o.Region = cmp.Or(o.Region, "South Central US")
	if !slices.Contains(consistencyLevels, o.Consistency) {
		return o, fmt.Errorf("consistency level %q: want one of %v", o.Consistency, consistencyLevels)
	}
	if o.Partitions < 0 || o.Partitions > maxPartitions {
		return o, fmt.Errorf("partitions %d: want 0 to %d", o.Partitions, maxPartitions)
	}
	if o.ServerlessRUPerSecond < 0 {
		return o, fmt.Errorf("serverless limit %v RU/s is negative", o.ServerlessRUPerSecond)
	}
	for name, n := range o.ContainerPartitions {
		if n < 1 || n > maxPartitions {
			return o, fmt.Errorf("partitions of %s: %d: want 1 to %d", name, n, maxPartitions)
		}
	}
	return o, nil
}

// maxPartitions is the most partitions a container may be created with.
const maxPartitions = maxThroughput / ruPerPartition
