package flatten_test

import (
	"fmt"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/internal/sample"
	"github.com/ddblake/ddblake/schemas"
)

// benchEvent is a ~6 MB Lambda event of realistic nested chat items.
func benchEvent(b *testing.B) []byte {
	b.Helper()
	g, err := sample.New(sample.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	event, _, err := g.LambdaEvent(6 << 20)
	if err != nil {
		b.Fatal(err)
	}
	return event
}

// images returns the NewImage (or OldImage) of every record of event.
func images(b *testing.B, p *fastjson.Parser, event []byte) []*fastjson.Value {
	v, err := p.ParseBytes(event)
	if err != nil {
		b.Fatal(err)
	}
	var out []*fastjson.Value
	for _, r := range v.GetArray("Records") {
		img := r.Get("dynamodb", "NewImage")
		if img == nil {
			img = r.Get("dynamodb", "OldImage")
		}
		if img != nil {
			out = append(out, img)
		}
	}
	return out
}

// BenchmarkParseItem measures reading DynamoDB JSON images into Values.
func BenchmarkParseItem(b *testing.B) {
	event := benchEvent(b)
	var p fastjson.Parser
	imgs := images(b, &p, event)
	var ip flatten.ItemParser
	b.ReportAllocs()
	b.SetBytes(int64(len(event)))
	b.ResetTimer()
	for b.Loop() {
		for _, img := range imgs {
			if _, err := ip.ParseItem(img); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(imgs))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkFlatten measures flattening parsed items into typed rows with
// a warm schema, the steady state of a stream: the Flattener has learned
// the schema's map columns, as the Processor teaches it after a commit.
func BenchmarkFlatten(b *testing.B) {
	event, items, f := benchItems(b)
	s := schemas.NewSchema("chat_messages")
	batch := f.NewBatch()
	var rows []flatten.Row
	run := func() {
		batch.Reset()
		for i, it := range items {
			batch.Add(flatten.Meta{EventName: "MODIFY", EventTime: 1775001600000 + int64(i)}, it)
		}
		for _, c := range batch.Propose(s) {
			if _, err := s.Add(c); err != nil {
				b.Fatal(err)
			}
		}
		rows, _ = batch.Rows(rows[:0], s)
	}
	run()
	f.Learn(s)
	b.ReportAllocs()
	b.SetBytes(int64(len(event)))
	b.ResetTimer()
	for b.Loop() {
		run()
	}
	b.ReportMetric(float64(len(items))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// benchItems returns the benchmark event, its items parsed, and a
// Flattener with the default rules.
func benchItems(b *testing.B) ([]byte, [][]flatten.Attr, *flatten.Flattener) {
	b.Helper()
	event := benchEvent(b)
	var p fastjson.Parser
	var items [][]flatten.Attr
	for _, img := range images(b, &p, event) {
		it, err := flatten.ParseItem(img)
		if err != nil {
			b.Fatal(err)
		}
		items = append(items, it)
	}
	f, err := flatten.New(flatten.TableConfig{})
	if err != nil {
		b.Fatal(err)
	}
	return event, items, f
}

// BenchmarkFlattenRules measures flattening with omit, mask and expand
// rules, the masks keyed (HMAC-SHA-256).
func BenchmarkFlattenRules(b *testing.B) {
	event, items, _ := benchItems(b)
	f, err := flatten.New(flatten.TableConfig{
		Omit:    []string{"ttl", "sender.profile.imageUrl"},
		Mask:    []string{"sender.id", "readBy", "meta.offer.amount"},
		Expand:  []string{"meta"},
		MaskKey: []byte("benchmark-mask-key-0123456789"),
	})
	if err != nil {
		b.Fatal(err)
	}
	s := schemas.NewSchema("chat_messages")
	batch := f.NewBatch()
	var rows []flatten.Row
	run := func() {
		batch.Reset()
		for i, it := range items {
			batch.Add(flatten.Meta{EventName: "MODIFY", EventTime: 1775001600000 + int64(i)}, it)
		}
		for _, c := range batch.Propose(s) {
			if _, err := s.Add(c); err != nil {
				b.Fatal(err)
			}
		}
		rows, _ = batch.Rows(rows[:0], s)
	}
	run()
	b.ReportAllocs()
	b.SetBytes(int64(len(event)))
	b.ResetTimer()
	for b.Loop() {
		run()
	}
	b.ReportMetric(float64(len(items))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkFlattenIDMaps measures flattening messages whose readBy map is
// keyed by user ids (one map<string,bigint> column), in the steady state:
// the Flattener has learned the map column.
func BenchmarkFlattenIDMaps(b *testing.B) {
	const n, users = 4096, 20000
	var items [][]flatten.Attr
	size := 0
	for i := range n {
		js := fmt.Sprintf(`{"roomId":{"S":"room-%d"},"sk":{"S":"MSG#%08d"},"body":{"S":"see you at 7"},"readBy":{"M":{`, i%50, i)
		for k := range 1 + i%5 {
			if k > 0 {
				js += ","
			}
			js += fmt.Sprintf(`"u%07x":{"N":"%d"}`, (i*7+k*13)%users, 1775001600000+i)
		}
		js += `}}}`
		size += len(js)
		it, err := flatten.ParseItemBytes([]byte(js))
		if err != nil {
			b.Fatal(err)
		}
		items = append(items, it)
	}
	f, err := flatten.New(flatten.TableConfig{})
	if err != nil {
		b.Fatal(err)
	}
	s := schemas.NewSchema("chat_messages")
	batch := f.NewBatch()
	var rows []flatten.Row
	run := func() {
		batch.Reset()
		for i, it := range items {
			batch.Add(flatten.Meta{EventName: "INSERT", EventTime: 1775001600000 + int64(i)}, it)
		}
		for _, c := range batch.Propose(s) {
			if _, err := s.Add(c); err != nil {
				b.Fatal(err)
			}
		}
		rows, _ = batch.Rows(rows[:0], s)
	}
	run()
	if len(s.Columns) != 4 {
		b.Fatalf("%d columns", len(s.Columns))
	}
	f.Learn(s)
	b.ReportAllocs()
	b.SetBytes(int64(size))
	b.ResetTimer()
	for b.Loop() {
		run()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
