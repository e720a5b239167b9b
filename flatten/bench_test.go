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

// benchFlatten measures flattening items into typed rows, both ways: as
// attributes (Batch.Add) and as Items (Batch.AddItem, the decoders'
// way). learn makes the Flattener learn the schema after the first
// batch, as the Processor does after a commit.
func benchFlatten(b *testing.B, f *flatten.Flattener, items [][]flatten.Attr, size int, event string, learn bool, check func(*schemas.Schema)) {
	nodes := make([]flatten.Item, len(items))
	for i, it := range items {
		nodes[i] = flatten.ItemOf(it)
	}
	for _, way := range []string{"attrs", "items"} {
		b.Run(way, func(b *testing.B) {
			s := schemas.NewSchema("chat_messages")
			batch := f.NewBatch()
			var rows []flatten.Row
			run := func() {
				batch.Reset()
				for i := range items {
					meta := flatten.Meta{EventName: event, EventTime: 1775001600000 + int64(i)}
					if way == "attrs" {
						batch.Add(meta, items[i])
					} else {
						batch.AddItem(meta, nodes[i])
					}
				}
				for _, c := range batch.Propose(s) {
					if _, err := s.Add(c); err != nil {
						b.Fatal(err)
					}
				}
				rows, _ = batch.Rows(rows[:0], s)
			}
			run()
			if check != nil {
				check(s)
			}
			if learn {
				f.Learn(s)
			}
			b.ReportAllocs()
			b.SetBytes(int64(size))
			b.ResetTimer()
			for b.Loop() {
				run()
			}
			b.ReportMetric(float64(len(items))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkFlatten measures flattening parsed items into typed rows with
// a warm schema, the steady state of a stream: the Flattener has learned
// the schema's map columns, as the Processor teaches it after a commit.
func BenchmarkFlatten(b *testing.B) {
	event, items, f := benchItems(b)
	benchFlatten(b, f, items, len(event), "MODIFY", true, nil)
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
	benchFlatten(b, f, items, len(event), "MODIFY", false, nil)
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
	benchFlatten(b, f, items, size, "INSERT", true, func(s *schemas.Schema) {
		if len(s.Columns) != 4 {
			b.Fatalf("%d columns", len(s.Columns))
		}
	})
}
