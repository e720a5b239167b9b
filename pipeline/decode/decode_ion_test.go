package decode

import (
	"bytes"
	"context"
	"io"
	"math/rand"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/pipeline/ionexport"
)

// ionEqualityItems are full-export lines covering every attribute type
// and the edges of each, and items DynamoDB JSON and Ion both spell but
// DynamoDB cannot hold (which both formats must set aside alike).
var ionEqualityItems = []string{
	`{"Item":{"pk":{"S":"every-type"},"s":{"S":"안녕 😀 \"quoted\" back\\slash\ttab\u0001"},"empty":{"S":""},` +
		`"n":{"N":"1.50"},"int":{"N":"-42"},"d38":{"N":"12345678901234567890123456789012345678"},"frac38":{"N":"0.12345678901234567890123456789012345678"},` +
		`"huge":{"N":"9.9999999999999999999999999999999999999E+125"},"tiny":{"N":"1E-130"},"exp":{"N":"1E+125"},"negzero":{"N":"-0"},"zero":{"N":"0"},"small":{"N":"0.000001"},"sci":{"N":"1.5E-7"},` +
		`"b":{"B":"AAECA/79/P8="},"bempty":{"B":""},"t":{"BOOL":true},"f":{"BOOL":false},"z":{"NULL":true},` +
		`"m":{"M":{"🙂":{"S":"emoji key"},"a.b":{"N":"1"},"inner":{"M":{"deep":{"L":[{"N":"1"},{"S":"x"},{"M":{}},{"L":[]}]}}}}},` +
		`"l":{"L":[{"S":"a"},{"N":"2"},{"B":"AQ=="},{"BOOL":false},{"NULL":true},{"SS":["x"]},{"NS":["1"]},{"BS":["AQ=="]}]},` +
		`"ss":{"SS":["a","b","😀"]},"ns":{"NS":["1","-2.5","1E+125","0.000001"]},"bs":{"BS":["AA==","AQI="]}}}`,
	`{"Item":{"pk":{"S":"minimal"}}}`,
	`{"Item":{"pk":{"S":"wide decimals"},"price":{"N":"1234567890.12"},"rate":{"N":"1E-12"},"cents":{"N":"0.01"}}}`,
	// What DynamoDB cannot hold, in both spellings.
	`{"Item":{"pk":{"S":"empty set"},"tags":{"SS":[]}}}`,
	`{"Item":{"pk":{"S":"empty name"},"m":{"M":{"":{"S":"x"}}}}}`,
	`{"Item":{"pk":{"S":"39 digits"},"n":{"N":"123456789012345678901234567890123456789"}}}`,
	`{"Item":{"pk":{"S":"too big"},"n":{"N":"1E+126"}}}`,
	`{"Item":{"pk":{"S":"too small"},"n":{"N":"1E-131"}}}`,
	`{"Item":{"pk":{"S":"duplicate"},"a":{"S":"1"},"a":{"S":"2"}}}`,
	`{"Item":{"pk":{"S":"deep"},"d":` + strings.Repeat(`{"L":[`, 40) + `{"S":"x"}` + strings.Repeat(`]}`, 40) + `}}`,
	`{"Item":{"pk":{"S":"after the bad ones"},"n":{"N":"7"}}}`,
}

// ionEqualityIncremental are incremental-export lines of every kind.
var ionEqualityIncremental = []string{
	`{"Metadata":{"WriteTimestampMicros":{"N":"1775001600123456"}},"Keys":{"pk":{"S":"a"}},"NewImage":{"pk":{"S":"a"},"n":{"N":"1E+125"},"ss":{"SS":["x"]}}}`,
	`{"Metadata":{"WriteTimestampMicros":{"N":"1775001600123457"}},"Keys":{"pk":{"S":"a"}},"OldImage":{"pk":{"S":"a"},"n":{"N":"1"}},"NewImage":{"pk":{"S":"a"},"n":{"N":"-0"},"b":{"B":"AQ=="}}}`,
	`{"Metadata":{"WriteTimestampMicros":{"N":"1775001600123458"}},"Keys":{"pk":{"S":"a"}},"OldImage":{"pk":{"S":"a"},"m":{"M":{"x":{"NULL":true}}}}}`,
	`{"Metadata":{"WriteTimestampMicros":{"N":"1775001600123459"}},"Keys":{"pk":{"S":"b"}}}`,
	`{"Metadata":{"WriteTimestampMicros":{"N":"1775001600123460"}},"Keys":{"pk":{"S":"c"}},"NewImage":{"pk":{"S":"c"},"e":{"NS":[]}}}`,
}

// TestIonJSONEquality writes the same items as a DYNAMODB_JSON export and
// as ION exports (text as DynamoDB writes it, and binary), and checks
// that every item gives the same record, or is set aside for the same
// reason at the same path, in each.
func TestIonJSONEquality(t *testing.T) {
	const id = "01775001600000-a1b2c3d4"
	arn := "arn:aws:dynamodb:ap-northeast-2:123456789012:table/chat-messages"
	for _, kind := range []string{"full", "incremental"} {
		lines := ionEqualityItems
		summary := func(format string) fxAV { return fullSummary(id, arn, format) }
		if kind == "incremental" {
			lines = ionEqualityIncremental
			summary = func(format string) fxAV {
				s := fullSummary(id, arn, format)
				delete(s, "exportTime")
				s["exportType"], s["version"] = "INCREMENTAL_EXPORT", "2023-08-01"
				return s
			}
		}
		dir := t.TempDir()
		layouts := map[string]exportLayout{
			"json":       {summary: summary("DYNAMODB_JSON"), files: []exportData{{"a.json.gz", lines, encJSON}}},
			"ion_text":   {summary: summary("ION"), files: []exportData{{"a.ion.gz", lines, encIonText}}},
			"ion_binary": {summary: summary("ION"), files: []exportData{{"a.ion.gz", lines, encIonBinary}}},
		}
		got := map[string]*collected{}
		for name, e := range layouts {
			e.dir, e.id = filepath.Join(dir, name), id
			e.breakMD5, e.breakCount, e.omitFile, e.corruptFile = -1, -1, -1, -1
			require.NoError(t, writeExport(e))
			c, ies := exportRecords(t, LocalFS{Root: dir}, name)
			require.Empty(t, ies, "%s %s", kind, name)
			got[name] = c
		}
		want := got["json"]
		require.Equal(t, len(lines), len(want.recs)+len(want.errs))
		if kind == "full" {
			require.Len(t, want.errs, 7, "the items DynamoDB cannot hold are set aside")
		}
		for _, name := range []string{"ion_text", "ion_binary"} {
			c := got[name]
			require.Len(t, c.recs, len(want.recs), "%s %s", kind, name)
			require.Len(t, c.errs, len(want.errs), "%s %s", kind, name)
			for i, w := range want.recs {
				g := *c.recs[i]
				require.True(t, strings.HasSuffix(g.Source, "/data/a.ion.gz"), g.Source)
				g.Source = w.Source
				if kind == "incremental" {
					require.Equal(t, w.Raw, g.Raw, "the Ion item becomes the JSON line")
				}
				require.Equal(t, *w, g, "%s %s record %d", kind, name, i)
			}
			for i, w := range want.errs {
				g := c.errs[i]
				require.Equal(t, w.Index, g.Index, "%s %s error %d", kind, name, i)
				require.Equal(t, w.Path, g.Path, "%s %s error %d", kind, name, i)
				require.Equal(t, causeOf(w.Err), causeOf(g.Err), "%s %s error %d: %v", kind, name, i, g)
				require.Equal(t, w.Raw, g.Raw)
				require.Equal(t, w.EventTimeMicros, g.EventTimeMicros)
			}
		}
	}
}

// TestIonBadItems checks the reasons and positions of Ion items DynamoDB
// cannot hold, read as export data without a manifest.
func TestIonBadItems(t *testing.T) {
	data := strings.Join([]string{
		`$ion_1_0 {Item:{pk:"ok-1"}}`,
		`$ion_1_0 {Item:{pk:"float",price:1.5e0}}`,
		`$ion_1_0 {Item:{pk:"timestamp",at:2026-04-01T00:00:00Z}}`,
		`$ion_1_0 {Item:{pk:"symbol",status:active}}`,
		`$ion_1_0 {Item:{pk:"annotation",tags:$dynamodb_XS::["a"]}}`,
		`$ion_1_0 {Item:{pk:"typed null",x:null.int}}`,
		`$ion_1_0 {Item:{pk:"sexp",x:(a b)}}`,
		`$ion_1_0 {Item:{pk:"clob",x:{{"c"}}}}`,
		`$ion_1_0 {Item:{pk:"set element",ns:$dynamodb_NS::[1.,2e0]}}`,
		`$ion_1_0 [1,2]`,
		`$ion_1_0 {Item:{pk:"ok-2",n:1d125}}`,
		`$ion_1_0 {Item:{pk:"truncated",body:"cut`,
	}, "\n")
	d, err := NewDecoder(Options{Table: "chat-messages", ExportTime: time.UnixMicro(micros("2026-04-01T00:00:00Z"))})
	require.NoError(t, err)
	var c collected
	err = d.Decode(context.Background(), strings.NewReader(data), "items.ion", FormatAuto, c.fn)
	require.Len(t, c.recs, 2)
	require.Equal(t, 1, c.recs[0].Index)
	require.Equal(t, 11, c.recs[1].Index)
	require.Equal(t, `{"Item":{"pk":{"S":"ok-2"},"n":{"N":"1E+125"}}}`, string(c.recs[1].Raw))
	want := []struct {
		index int
		path  string
		msg   string
	}{
		{2, "Item.price", "an Ion float"},
		{3, "Item.at", "an Ion timestamp"},
		{4, "Item.status", "an Ion symbol"},
		{5, "Item.tags", "unknown Ion annotation: $dynamodb_XS"},
		{6, "Item.x", "a typed null (null.int)"},
		{7, "Item.x", "an Ion sexp"},
		{8, "Item.x", "an Ion clob"},
		{9, "Item.ns.1", "an Ion float in a NS set"},
		{10, "", "want a struct such as {Item:{...}}, got an Ion list"},
	}
	require.Len(t, c.errs, len(want))
	for i, w := range want {
		e := c.errs[i]
		require.ErrorIs(t, e, ErrBadIon)
		require.Equal(t, w.index, e.Index)
		require.Equal(t, w.path, e.Path)
		require.Contains(t, e.Error(), w.msg)
		require.Contains(t, e.Error(), "items.ion: line "+strconv.Itoa(w.index))
		require.Equal(t, "chat-messages", e.Table)
		require.Equal(t, micros("2026-04-01T00:00:00Z"), e.EventTimeMicros)
		require.NotEmpty(t, e.Raw, "the item is kept, as JSON")
	}
	ies := InputErrors(err)
	require.Len(t, ies, 1)
	require.ErrorIs(t, ies[0], ErrBadIon)
	require.Equal(t, 12, ies[0].Line, "the break names the item (its line, as Where says)")
	require.Positive(t, ies[0].Offset)
}

// TestIonDetect checks that Ion data is told apart from JSON, and full
// from incremental, plain or gzip.
func TestIonDetect(t *testing.T) {
	var bin bytes.Buffer
	w := ionexport.NewBinaryWriter(&bin)
	require.NoError(t, w.WriteLine([]byte(`{"Metadata":{"WriteTimestampMicros":{"N":"1"}},"Keys":{"pk":{"S":"a"}}}`)))
	require.NoError(t, w.Close())
	for _, c := range []struct {
		head []byte
		want Format
	}{
		{[]byte(`$ion_1_0 {Item:{pk:"a"}}`), FormatExport},
		{[]byte("$ion_1_0 {Metadata:{WriteTimestampMicros:1},Keys:{pk:\"a\"}}"), FormatIncremental},
		{gzipBytes([]byte(`$ion_1_0 {Item:{pk:"a"}}`)), FormatExport},
		{bin.Bytes(), FormatIncremental},
		{[]byte(`{"Item":{"pk":{"S":"a"}}}`), FormatExport},
	} {
		got, err := detect(c.head)
		require.NoError(t, err)
		require.Equal(t, c.want, got)
	}
	_, err := detect([]byte(`$ion_1_0 {Other:1}`))
	require.ErrorIs(t, err, ErrUnknownFormat)
}

// benchExportLines returns full-export lines of chat messages, about size
// bytes of DynamoDB JSON.
func benchExportLines(size int) []byte {
	rng := rand.New(rand.NewSource(42))
	var out bytes.Buffer
	for i := 0; out.Len() < size; i++ {
		var b strings.Builder
		b.WriteString(`{"Item":`)
		benchMessage(&b, rng, rng.Intn(64), i, i%3 == 0)
		b.WriteString("}\n")
		out.WriteString(b.String())
	}
	return out.Bytes()
}

// BenchmarkDecodeExportIon decodes the same export items written as
// DYNAMODB_JSON lines, as DynamoDB's text Ion and as binary Ion. MB/s is
// of the items' DynamoDB JSON in every case, so the figures compare item
// throughput; input-MB/s is of the bytes read.
func BenchmarkDecodeExportIon(b *testing.B) {
	lines := benchExportLines(8 << 20)
	encode := func(binary bool) []byte {
		var buf bytes.Buffer
		w := ionexport.NewTextWriter(&buf)
		if binary {
			w = ionexport.NewBinaryWriter(&buf)
		}
		for _, l := range bytes.Split(bytes.TrimSuffix(lines, []byte("\n")), []byte("\n")) {
			if err := w.WriteLine(l); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		return buf.Bytes()
	}
	for _, c := range []struct {
		name        string
		data        []byte
		convertOnly bool
	}{
		{"json", lines, false},
		{"ion_text", encode(false), false},
		{"ion_binary", encode(true), false},
		{"ion_text_convert_only", encode(false), true},
	} {
		b.Run(c.name, func(b *testing.B) {
			d, err := NewDecoder(Options{Table: "chat-messages", ExportTime: time.UnixMicro(micros("2026-04-01T00:00:00Z"))})
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			fn := func(rec *ChangeRecord, rerr *RecordError) error {
				if rerr != nil {
					return rerr
				}
				n++
				return nil
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(lines)))
			b.ResetTimer()
			cpu := cpuSeconds()
			for i := 0; i < b.N; i++ {
				if c.convertOnly {
					r := ionexport.NewReader(bytes.NewReader(c.data), 0)
					for {
						_, err := r.Next()
						if err == io.EOF {
							break
						}
						if err != nil {
							b.Fatal(err)
						}
						n++
					}
					continue
				}
				if err := d.Decode(context.Background(), bytes.NewReader(c.data), "bench", FormatExport, fn); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu, int64(len(lines)))
			b.ReportMetric(float64(len(c.data))*float64(b.N)/1e6/b.Elapsed().Seconds(), "input-MB/s")
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "items/s")
		})
	}
}

// TestIonEscapes checks Ion escapes that the Ion library reads wrongly
// against the same items in DynamoDB JSON: a lone surrogate (\ud800) or
// a code point past U+10FFFF sets its item aside, class bad_utf8, with
// the file, line and attribute path, where the Ion library would have
// read U+FFFD; a surrogate pair written as two escapes gives the record
// the JSON escapes give.
func TestIonEscapes(t *testing.T) {
	ion := strings.Join([]string{
		`$ion_1_0 {Item:{pk:"ok-1"}}`,
		`$ion_1_0 {Item:{pk:"lone",body:"hi \ud800"}}`,
		`$ion_1_0 {Item:{pk:"pair",body:"hi \ud83d\ude00",'\ud83d\ude42':"x"}}`,
		`$ion_1_0 {Item:{pk:"past",m:{tags:$dynamodb_SS::["\U00110000"]}}}`,
		`$ion_1_0 {Item:{pk:"ok-2"}}`,
	}, "\n")
	json := strings.Join([]string{
		`{"Item":{"pk":{"S":"ok-1"}}}`,
		`{"Item":{"pk":{"S":"lone"},"body":{"S":"hi \ud800"}}}`,
		`{"Item":{"pk":{"S":"pair"},"body":{"S":"hi \ud83d\ude00"},"\ud83d\ude42":{"S":"x"}}}`,
		`{"Item":{"pk":{"S":"past"},"m":{"M":{"tags":{"SS":["\udbc0\udc00"]}}}}}`,
		`{"Item":{"pk":{"S":"ok-2"}}}`,
	}, "\n")
	decodeAll := func(data, name string) collected {
		d, err := NewDecoder(Options{Table: "chat-messages", ExportTime: time.UnixMicro(micros("2026-04-01T00:00:00Z"))})
		require.NoError(t, err)
		var c collected
		require.NoError(t, d.Decode(context.Background(), strings.NewReader(data), name, FormatAuto, c.fn))
		return c
	}
	fromIon, fromJSON := decodeAll(ion, "items.ion"), decodeAll(json, "items.json")
	require.Len(t, fromIon.recs, 3)
	require.Len(t, fromJSON.recs, 4, "JSON has U+100000 where Ion has a code point past U+10FFFF")
	for i, want := range []int{0, 1, 3} {
		g, w := fromIon.recs[i], fromJSON.recs[want]
		require.Equal(t, w.Index, g.Index)
		require.Equal(t, w.NewImage.Attrs(), g.NewImage.Attrs(), "line %d", g.Index)
		require.NotContains(t, string(g.Raw), "\uFFFD")
	}
	require.Equal(t, "hi 😀", fromIon.recs[1].NewImage.Attrs()[1].Value.S)

	require.Len(t, fromIon.errs, 2)
	for i, w := range []struct {
		line       int
		path, text string
	}{
		{2, "Item.body", `the escape \ud800 is a high surrogate with no low surrogate after it`},
		{4, "Item.m.tags.0", `the escape \U00110000 is past U+10FFFF`},
	} {
		e := fromIon.errs[i]
		require.ErrorIs(t, e, flatten.ErrBadUTF8, "the class of the same escape in JSON")
		require.Equal(t, w.line, e.Index)
		require.Equal(t, w.path, e.Path)
		require.Contains(t, e.Error(), "items.ion: line "+strconv.Itoa(w.line))
		require.Contains(t, e.Error(), w.text)
		require.NotContains(t, string(e.Raw), "\uFFFD", "nothing invented in the quarantine either")
	}
	require.Len(t, fromJSON.errs, 1)
	require.ErrorIs(t, fromJSON.errs[0], flatten.ErrBadUTF8)
	require.Equal(t, 2, fromJSON.errs[0].Index)
}
