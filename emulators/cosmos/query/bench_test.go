package query

import (
	"fmt"
	"testing"
)

// BenchmarkRun filters and sorts 10,000 documents, the emulator's worst
// realistic container.
func BenchmarkRun(b *testing.B) {
	statuses := []string{"Placed", "Paid", "Shipped", "Cancelled"}
	docs := make([]map[string]any, 10_000)
	for i := range docs {
		docs[i] = map[string]any{
			"id":       fmt.Sprintf("order-%05d", i),
			"status":   statuses[i%len(statuses)],
			"total":    float64((i * 7919) % 1000),
			"customer": map[string]any{"tier": "gold"},
		}
	}
	q, err := Parse(`SELECT c.id, c.total FROM c WHERE c.status = @s AND c.total >= @min ORDER BY c.total DESC`,
		map[string]any{"@s": "Paid", "@min": 100.0})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := q.Run(docs); err != nil {
			b.Fatal(err)
		}
	}
}
