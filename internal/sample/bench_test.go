package sample

import (
	"context"
	"testing"
)

func BenchmarkLambdaEvent(b *testing.B) {
	g, err := New(DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var n, size int
	for b.Loop() {
		ev, recs, err := g.LambdaEvent(6 << 20)
		if err != nil {
			b.Fatal(err)
		}
		n, size = recs, len(ev)
	}
	b.SetBytes(int64(size))
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkLargeExport(b *testing.B) {
	g, err := New(DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	const size = 32 << 20
	var items int64
	for b.Loop() {
		res, err := g.WriteLargeExport(context.Background(), b.TempDir(), LargeExport{Size: size})
		if err != nil {
			b.Fatal(err)
		}
		items = res.Items
	}
	b.SetBytes(size)
	b.ReportMetric(float64(items)*float64(b.N)/b.Elapsed().Seconds(), "items/s")
}
