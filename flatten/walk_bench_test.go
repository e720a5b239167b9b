package flatten_test

import (
	"testing"

	"github.com/valyala/fastjson"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/schemas"
)

// internNames gives equal attribute names one string, as a decoder
// that interns the names it reads does.
func internNames(attrs []flatten.Attr, names map[string]string) {
	for i := range attrs {
		n, ok := names[attrs[i].Name]
		if !ok {
			n = attrs[i].Name
			names[n] = n
		}
		attrs[i].Name = n
		internValue(&attrs[i].Value, names)
	}
}

func internValue(v *flatten.Value, names map[string]string) {
	switch v.Kind {
	case flatten.M:
		internNames(v.M, names)
	case flatten.L:
		for i := range v.L {
			internValue(&v.L[i], names)
		}
	}
}

// BenchmarkAddItem measures the walk alone: a 6 MB event's images (their
// names interned, as the decoder reads them) flattened into a batch's
// leaves, then proposed against the batch's own committed schema (the
// steady state: no new column), as a Processor does before building
// rows.
func BenchmarkAddItem(b *testing.B) {
	event := benchEvent(b)
	var p fastjson.Parser
	names := map[string]string{}
	var items []flatten.Item
	for _, img := range images(b, &p, event) {
		attrs, err := flatten.ParseItem(img)
		if err != nil {
			b.Fatal(err)
		}
		internNames(attrs, names)
		items = append(items, flatten.ItemOf(attrs))
	}
	f, err := flatten.New(flatten.TableConfig{})
	if err != nil {
		b.Fatal(err)
	}
	s := &schemas.Schema{Table: "t", MaxColumns: 1000}
	meta := flatten.Meta{EventName: "MODIFY", EventTime: 1775001600000}
	batch := f.NewBatch()
	for _, it := range items {
		batch.AddItem(meta, it)
	}
	for _, c := range batch.Propose(s) {
		if _, err := s.Add(c); err != nil {
			b.Fatal(err)
		}
	}
	f.Learn(s)
	batch.Release()
	b.ReportAllocs()
	b.SetBytes(int64(len(event)))
	b.ResetTimer()
	for b.Loop() {
		batch := f.NewBatch()
		for _, it := range items {
			batch.AddItem(meta, it)
		}
		if cols := batch.Propose(s); len(cols) > 0 {
			b.Fatalf("%d new columns", len(cols))
		}
		batch.Release()
	}
	b.ReportMetric(float64(len(items))*float64(b.N)/b.Elapsed().Seconds(), "items/s")
}
