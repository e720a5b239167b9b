package flatten_test

import (
	"testing"

	"github.com/ddblake/ddblake/flatten"
)

// BenchmarkInferrer measures `ddblake infer`'s work per item: flattening
// parsed items and folding every value into an Inferrer.
func BenchmarkInferrer(b *testing.B) {
	event, items, f := benchItems(b)
	in := flatten.NewInferrer()
	batch := f.NewBatch()
	b.ReportAllocs()
	b.SetBytes(int64(len(event)))
	b.ResetTimer()
	for b.Loop() {
		batch.Reset()
		for _, it := range items {
			batch.Add(flatten.Meta{EventName: "MODIFY"}, it)
		}
		in.Add(batch)
	}
	b.ReportMetric(float64(len(items))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	if in.Len() == 0 {
		b.Fatal("no paths inferred")
	}
}
