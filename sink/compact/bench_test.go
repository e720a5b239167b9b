package compact_test

import (
	"context"
	"testing"

	"github.com/ddblake/ddblake/internal/laketest"
	"github.com/ddblake/ddblake/sink/compact"
)

// BenchmarkCompactDay compacts a day of 200 small files (100 rows each)
// into one, in memory: the cost of reading, merging and writing.
func BenchmarkCompactDay(b *testing.B) {
	mem := laketest.NewMemStore()
	base := newLake(b, mem, false)
	for i := range 200 {
		base.write(b, uint64(i+1), 100, start+int64(i)*400_000)
	}
	rows, bytes := 0, int64(0)
	objs, _ := mem.List(context.Background(), "t/")
	for _, o := range objs {
		bytes += o.Size
	}
	rows = 200 * 100
	b.SetBytes(bytes)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		st := mem.Clone()
		sum, err := compact.Run(context.Background(), st, compact.Options{Now: later})
		if err != nil || sum.Outputs != 1 {
			b.Fatal(err, sum)
		}
	}
	b.ReportMetric(float64(b.N)*float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
