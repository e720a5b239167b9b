package decode

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/internal/eventtest"
	"github.com/ddblake/ddblake/schemas"
)

// The fast path (fast_json.go, fast_record.go) must give exactly what the
// parser path gives: every record with every field and image, every
// record error with its message, path, table, time and raw bytes, every
// input error, and through flatten the same columns and rows. The tests
// here decode the same bytes both ways and compare; the helpers of the
// other tests (decodeEvent, decodeReader, the goldens' decodeAll) do too.

// traceHead renders every field of what a decoding handed on but the
// images of a record.
func traceHead(rec *ChangeRecord, rerr *RecordError) string {
	if rerr != nil {
		return fmt.Sprintf("error source=%q index=%d line=%d table=%q seq=%q time=%d path=%q raw=%s err=%q cause=%s",
			rerr.Source, rerr.Index, rerr.Line, rerr.Table, rerr.Sequence, rerr.EventTimeMicros, rerr.Path, rerr.Raw, rerr.Error(), causeOf(rerr))
	}
	return fmt.Sprintf("record source=%q index=%d line=%d table=%q account=%q region=%q event=%q id=%q seq=%q time=%d ttl=%v raw=%s",
		rec.Source, rec.Index, rec.Line, rec.Table, rec.Account, rec.Region, rec.EventName, rec.EventID, rec.Sequence,
		rec.EventTimeMicros, rec.TTLDelete, rec.Raw)
}

// traceLine is what a decoding handed on for one record or record error,
// every field of it, copied when handed on (the decoder may reuse its
// memory afterwards). Two are compared with same, value by value (nil
// and empty slices told apart, as %#v tells them); String renders one,
// which only a difference needs.
type traceLine struct {
	head   string
	record bool
	images [3]imageCopy // Keys, NewImage, OldImage
}

// imageCopy is a deep copy of an image's attributes; absent for a zero
// Item.
type imageCopy struct {
	absent bool
	attrs  []flatten.Attr
}

func snapshotOf(rec *ChangeRecord, rerr *RecordError) traceLine {
	l := traceLine{head: traceHead(rec, rerr)}
	if rerr == nil {
		l.record = true
		for i, it := range []flatten.Item{rec.Keys, rec.NewImage, rec.OldImage} {
			if it.IsZero() {
				l.images[i].absent = true
			} else {
				l.images[i].attrs = cloneAttrs(it.Attrs())
			}
		}
	}
	return l
}

func (l traceLine) String() string {
	if !l.record {
		return l.head
	}
	return l.head + "\n keys=" + l.images[0].String() + "\n new=" + l.images[1].String() + "\n old=" + l.images[2].String()
}

func (c imageCopy) String() string {
	if c.absent {
		return "absent"
	}
	return fmt.Sprintf("%#v", c.attrs)
}

// same reports whether l and o render alike.
func (l traceLine) same(o traceLine) bool {
	if l.head != o.head || l.record != o.record {
		return false
	}
	for i := range l.images {
		if l.images[i].absent != o.images[i].absent || !sameAttrs(l.images[i].attrs, o.images[i].attrs) {
			return false
		}
	}
	return true
}

// requireSameTrace fails the test when want and got differ, showing both
// rendered.
func requireSameTrace(t testing.TB, want, got traceLine, msgAndArgs ...any) {
	t.Helper()
	if !want.same(got) {
		require.Equal(t, want.String(), got.String(), msgAndArgs...)
		require.Fail(t, "traces differ but render alike", msgAndArgs...)
	}
}

func sameAttrs(a, b []flatten.Attr) bool {
	if len(a) != len(b) || (a == nil) != (b == nil) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || !sameValue(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}

func sameValue(a, b flatten.Value) bool {
	if a.Kind != b.Kind || a.S != b.S || a.Bool != b.Bool ||
		!bytes.Equal(a.B, b.B) || (a.B == nil) != (b.B == nil) ||
		len(a.L) != len(b.L) || (a.L == nil) != (b.L == nil) || !sameAttrs(a.M, b.M) {
		return false
	}
	for i := range a.L {
		if !sameValue(a.L[i], b.L[i]) {
			return false
		}
	}
	return true
}

// cloneAttrs copies attrs and everything they hold, strings included
// (they may share a buffer the decoder reuses).
func cloneAttrs(attrs []flatten.Attr) []flatten.Attr {
	if attrs == nil {
		return nil
	}
	out := make([]flatten.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = flatten.Attr{Name: strings.Clone(a.Name), Value: cloneValue(a.Value)}
	}
	return out
}

func cloneValue(v flatten.Value) flatten.Value {
	out := flatten.Value{Kind: v.Kind, S: strings.Clone(v.S), Bool: v.Bool, M: cloneAttrs(v.M)}
	if v.B != nil {
		out.B = bytes.Clone(v.B)
	}
	if v.L != nil {
		out.L = make([]flatten.Value, len(v.L))
		for i, e := range v.L {
			out.L[i] = cloneValue(e)
		}
	}
	return out
}

// pathTrace is what one way of decoding handed on.
type pathTrace struct {
	lines []traceLine
	recs  []*ChangeRecord
	err   string
}

func (p *pathTrace) fn(rec *ChangeRecord, rerr *RecordError) error {
	p.lines = append(p.lines, snapshotOf(rec, rerr))
	if rec != nil {
		p.recs = append(p.recs, rec)
	}
	return nil
}

// bothWays runs a decoding with the fast path and with the parser path,
// on decoders of opts, and requires the same trace; it returns the
// records of each.
func bothWays(t testing.TB, opts Options, run func(d *Decoder, fn RecordFunc) error) (fast, parser []*ChangeRecord) {
	t.Helper()
	var ways [2]pathTrace
	for i := range ways {
		d := testDecoders.get(t, opts, i == 1)
		if err := run(d, ways[i].fn); err != nil {
			ways[i].err = err.Error()
		}
		testDecoders.put(d, opts)
	}
	require.Equal(t, ways[1].err, ways[0].err, "input error")
	require.Equal(t, len(ways[1].lines), len(ways[0].lines), "records")
	for i := range ways[0].lines {
		requireSameTrace(t, ways[1].lines[i], ways[0].lines[i], "record %d", i)
	}
	return ways[0].recs, ways[1].recs
}

// decoderCache keeps decoders for reuse from comparison to comparison, as
// a program reuses its decoders (and their buffers, which are costly to
// make anew).
type decoderCache struct {
	mu sync.Mutex
	m  map[decoderKey][]*Decoder
}

type decoderKey struct {
	opts       Options
	parserOnly bool
}

var testDecoders decoderCache

func (c *decoderCache) get(t testing.TB, opts Options, parserOnly bool) *Decoder {
	c.mu.Lock()
	k := decoderKey{opts, parserOnly}
	if n := len(c.m[k]); n > 0 {
		d := c.m[k][n-1]
		c.m[k] = c.m[k][:n-1]
		c.mu.Unlock()
		return d
	}
	c.mu.Unlock()
	d, err := NewDecoder(opts)
	require.NoError(t, err)
	d.parserOnly = parserOnly
	return d
}

func (c *decoderCache) put(d *Decoder, opts Options) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[decoderKey][]*Decoder{}
	}
	k := decoderKey{opts, d.parserOnly}
	c.m[k] = append(c.m[k], d)
}

// diffConfigs are the flattening rules the rows are compared under.
func diffConfigs() []flatten.TableConfig {
	return []flatten.TableConfig{
		{},
		{Depth: 2},
		{
			Omit: []string{"debug", "sender.profile.tmp", "flags"}, Mask: []string{"sender.phone", "readBy.*", "secret", "body"},
			MaskKey: []byte("fast-path-test-mask-key"), Expand: []string{"meta"}, Explode: []string{"attachments", "flags"},
			Columns: map[string]string{"price": "decimal(12,2)", "payload": "json", "reactions": "map", "settings": "flatten", "sender.profile": "json"},
		},
	}
}

// rowImage is the image a row is made from (as pipeline.Route picks it).
func rowImage(r *ChangeRecord) flatten.Item {
	switch {
	case !r.NewImage.IsZero():
		return r.NewImage
	case !r.OldImage.IsZero():
		return r.OldImage
	}
	return r.Keys
}

// requireSameRows flattens the records of both ways (the fast path's
// Items with Batch.AddItem, the parser's attributes with Batch.Add) under
// each of diffConfigs, twice (the second time with the columns of the
// first learned), and requires the same columns, rows and counts (once,
// with the rules, in a brief run).
func requireSameRows(t testing.TB, fast, parser []*ChangeRecord) {
	t.Helper()
	configs, rounds := diffConfigs(), 2
	if brief() {
		configs, rounds = configs[len(configs)-1:], 1 // the rules
	}
	requireSameRowsUnder(t, fast, parser, configs, rounds)
}

// requireSameRowsUnder is requireSameRows under configs, rounds times.
func requireSameRowsUnder(t testing.TB, fast, parser []*ChangeRecord, configs []flatten.TableConfig, rounds int) {
	t.Helper()
	require.Equal(t, len(parser), len(fast))
	if len(fast) == 0 {
		return
	}
	for ci, cfg := range configs {
		fNew, err := flatten.New(cfg)
		require.NoError(t, err)
		fOld, err := flatten.New(cfg)
		require.NoError(t, err)
		sNew, sOld := schemas.NewSchema("t"), schemas.NewSchema("t")
		for round := range rounds {
			bNew, bOld := fNew.NewBatch(), fOld.NewBatch()
			for i := range fast {
				meta := flatten.Meta{EventName: fast[i].EventName, EventTime: fast[i].EventTimeMicros / 1000}
				bNew.AddItem(meta, rowImage(fast[i]))
				bOld.Add(meta, rowImage(parser[i]).Attrs())
			}
			cNew, cOld := bNew.Propose(sNew), bOld.Propose(sOld)
			require.Equal(t, cOld, cNew, "config %d round %d: columns", ci, round)
			for _, c := range cNew {
				_, errNew := sNew.Add(c)
				_, errOld := sOld.Add(c)
				require.Equal(t, errOld, errNew)
			}
			rNew, stNew := bNew.Rows(nil, sNew)
			rOld, stOld := bOld.Rows(nil, sOld)
			require.Equal(t, stOld, stNew, "config %d round %d: counts", ci, round)
			require.Equal(t, len(rOld), len(rNew))
			for i := range rOld {
				require.Equal(t, string(flatten.AppendRowJSON(nil, sOld, &rOld[i])), string(flatten.AppendRowJSON(nil, sNew, &rNew[i])),
					"config %d round %d: row %d", ci, round, i)
				require.Equal(t, rOld[i], rNew[i], "config %d round %d: row %d", ci, round, i)
			}
			bNew.Release()
			bOld.Release()
			fNew.Learn(sNew)
			fOld.Learn(sOld)
		}
	}
}

// sameBothWays decodes data in every way the decoders read bytes (as a
// Lambda payload, and as an input of every format) with both paths, under
// opts, and requires the same records, errors and rows.
func sameBothWays(t testing.TB, data []byte, opts Options) {
	t.Helper()
	sameBothWaysRows(t, data, opts, requireSameRows)
}

// sameBothWaysRows is sameBothWays with the rows compared by rows.
func sameBothWaysRows(t testing.TB, data []byte, opts Options, rows func(t testing.TB, fast, parser []*ChangeRecord)) {
	t.Helper()
	fast, parser := bothWays(t, opts, func(d *Decoder, fn RecordFunc) error {
		return d.DecodeEvent(data, "event", fn)
	})
	rows(t, fast, parser)
	for _, format := range Formats() {
		fast, parser := bothWays(t, opts, func(d *Decoder, fn RecordFunc) error {
			return d.Decode(context.Background(), bytes.NewReader(data), "in", format, fn)
		})
		rows(t, fast, parser)
	}
}

// fastPathOptions are the decoder options the comparisons run under
// (the first alone in a short run under the race detector).
func fastPathOptions() []Options {
	opts := []Options{
		{Table: "fuzz-table", ExportTime: time.Unix(1775001600, 0)},
		{UnusedOldImages: true, Table: "chat-messages", ExportTime: time.Unix(1775001600, 5e8)},
	}
	if brief() {
		return opts[:1]
	}
	return opts
}

// brief reports a short run under the race detector, which slows the
// comparisons several times over: they then run on fewer inputs.
func brief() bool { return testing.Short() && raceEnabled }

// corpusInputs reads the byte and string arguments of the entries of a
// go fuzz corpus directory.
func corpusInputs(t testing.TB, dir string) [][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out [][]byte
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			line := sc.Text()
			for _, pre := range []string{"[]byte(", "string("} {
				if strings.HasPrefix(line, pre) && strings.HasSuffix(line, ")") {
					s, err := strconv.Unquote(line[len(pre) : len(line)-1])
					require.NoError(t, err, "%s: %s", e.Name(), line)
					out = append(out, []byte(s))
				}
			}
		}
		require.NoError(t, sc.Err())
	}
	require.NotEmpty(t, out, dir)
	return out
}

// fuzzCorpora are the inputs of the fuzz corpora that hold records or
// items: decoding's own, the Processor's (hostile records) and
// flatten's (items, read as export lines and as NewImages).
func fuzzCorpora(t testing.TB) [][]byte {
	out := corpusInputs(t, "testdata/fuzz/FuzzDecode")
	out = append(out, corpusInputs(t, "../testdata/fuzz/FuzzProcessor")...)
	for _, item := range corpusInputs(t, "../../flatten/testdata/fuzz/FuzzFlatten") {
		out = append(out, []byte(`{"Item":`+string(item)+`}`),
			[]byte(streamRecord(nil, map[string]string{"NewImage": string(item)})))
	}
	return out
}

// hostileRecords are records at the edges of what the fast path takes:
// the poison records of the Processor's tests, and records each of which
// holds one thing the fast path must read as the parser does or leave to
// it.
func hostileRecords(t testing.TB) []string {
	var out []string
	for _, r := range eventtest.Good(t) {
		out = append(out, r)
	}
	for _, r := range eventtest.Poison(t) {
		out = append(out, r)
	}
	img := func(attrs string) string {
		return streamRecord(nil, map[string]string{"NewImage": `{"roomId":{"S":"room-1"}` + attrs + `}`})
	}
	top := func(k, v string) string { return streamRecord(map[string]string{k: v}, nil) }
	ddb := func(k, v string) string { return streamRecord(nil, map[string]string{k: v}) }
	many := func(n int, dup bool) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, `,"a%d":{"N":"%d"}`, i, i)
		}
		if dup {
			b.WriteString(`,"a7":{"S":"again"}`)
		}
		return b.String()
	}
	out = append(out,
		img(`,"e":{"S":"tab\there \"q\" \\ \/ \b\f\n\r \u00e9 \u0000 \ud83d\ude00"}`),
		img(`,"e\u00e9":{"S":"x"}`), img(`,"q\"":{"S":"x"}`), img(`,"n":{"N":"1\u0032"}`), img(`,"b":{"B":"AQ\u003d\u003d"}`),
		img(`,"b":{"B":"AQ=="},"c":{"B":"AQ"},"d":{"B":"A"},"e":{"B":""},"f":{"BS":["AQ==","Ag"]}`),
		img(`,"s":{"SS":[]}`), img(`,"s":{"NS":["1","x"]}`), img(`,"s":{"SS":["a",1]}`), img(`,"s":{"BS":["!!"]}`),
		img(`,"n":{"N":"+1"},"m":{"N":"-0"},"o":{"N":"1e5"},"p":{"N":".5"},"q":{"N":"5."},"r":{"N":"0x10"}`),
		img(`,"n":{"N":1}`), img(`,"n":{"S":null}`), img(`,"n":{"BOOL":"true"}`), img(`,"n":{"NULL":false}`), img(`,"n":{"NULL":true }`),
		img(`,"n":{"S":"a","N":"1"}`), img(`,"n":{}`), img(`,"n":{"X":"1"}`), img(`,"n":{"s":"1"}`), img(`,"n":{"S\u0022":"1"}`),
		img(`,"n" : { "S" : "spaced" } , "l" : { "L" : [ { "N" : "1" } , { "NULL" : true } ] }`),
		img(`,"l":{"L":[]},"m":{"M":{}},"x":{"L":[[]]}`), img(`,"l":{"L":[{"S":"a"},]}`), img(`,"m":{"M":{"a":{"S":"x"},}}`),
		img(many(31, false)), img(many(32, false)), img(many(33, false)), img(many(40, true)), img(many(10, true)),
		img(`,"m":{"M":{`+many(40, false)[1:]+`,"inner":{"M":{`+many(40, true)[1:]+`}}}}`),
		img(`,"m":{"M":{`+many(40, false)[1:]+`}},"k":{"M":{`+many(40, false)[1:]+`}}`),
		img(`,"bad":{"S":"`+"\xff\xfe"+`"}`), img(`,"`+"\xff"+`":{"S":"x"}`), img(`,"ctl":{"S":"`+"a\x01b"+`"}`),
		img(`,"d":`+strings.Repeat(`{"L":[`, 31)+`{"S":"deep"}`+strings.Repeat("]}", 31)),
		img(`,"d":`+strings.Repeat(`{"L":[`, 32)+`{"S":"deep"}`+strings.Repeat("]}", 32)),
		top("eventID", `null`), top("eventID", `7`), top("eventID", `"e\u0031"`), top("eventID", `""`),
		top("eventSource", `"aws:kinesis"`), top("eventSource", `""`), top("eventSource", `5`), top("eventSource", `null`),
		top("eventSourceARN", `""`), top("eventSourceARN", `null`), top("eventSourceARN", `"arn:aws:dynamodb:us-east-1:12:table/chat-x/stream/y"`),
		top("eventSourceARN", `"arn:aws:dynamodb:us-east-1:123456789012:table/chat\u002dx/stream/y"`), top("eventSourceARN", ""),
		top("eventName", `"insert"`), top("eventName", `"REMOVE"`), top("eventName", `"MODIFY"`), top("eventName", `null`), top("eventName", ""),
		top("tableName", `"chat-messages"`), top("tableName", `null`), top("awsRegion", `"x"`), top("Records", `[]`), top("kinesis", `null`),
		top("userIdentity", `{"type":"Service","principalId":"dynamodb.amazonaws.com"}`), top("dynamodb", `[]`), top("dynamodb", `null`),
		streamRecord(map[string]string{"eventName": `"REMOVE"`, "userIdentity": `{"type":"Service","principalId":"dynamodb.amazonaws.com"}`}, map[string]string{"NewImage": "", "OldImage": `{"roomId":{"S":"r"}}`}),
		streamRecord(map[string]string{"eventName": `"REMOVE"`, "userIdentity": `{"type":"Service","type":"Service","principalId":"dynamodb.amazonaws.com"}`}, nil),
		streamRecord(map[string]string{"eventName": `"REMOVE"`, "userIdentity": `"Service"`}, nil),
		streamRecord(map[string]string{"eventName": `"REMOVE"`, "userIdentity": `{"type":"Service","principalId":"dynamodb.amazonaws.co\u006d"}`}, nil),
		ddb("ApproximateCreationDateTime", `1775001600.5`), ddb("ApproximateCreationDateTime", `1.7750016e9`), ddb("ApproximateCreationDateTime", `"1775001600"`),
		ddb("ApproximateCreationDateTime", `"2026-04-01T00:00:00.123456789Z"`), ddb("ApproximateCreationDateTime", `-1`), ddb("ApproximateCreationDateTime", `01`),
		ddb("ApproximateCreationDateTime", `null`), ddb("ApproximateCreationDateTime", `{}`), ddb("ApproximateCreationDateTime", ""),
		ddb("ApproximateCreationDateTime", `1775001600000000000000`), ddb("ApproximateCreationDateTime", `0.0000001`),
		ddb("SequenceNumber", `111`), ddb("SequenceNumber", `""`), ddb("SequenceNumber", `"1\u0031"`),
		ddb("Keys", `null`), ddb("Keys", `[]`), ddb("NewImage", `null`), ddb("OldImage", `{"roomId":{"S":"old"}}`), ddb("OldImage", `{"roomId":{"S":1}}`),
		ddb("Keys", ""), ddb("Junk", `{"a":[1,2.5e-3,true,false,null,{"b":"\u00e9"}],"a":"dup ok"}`), ddb("Junk", `{"a":"\q"}`), ddb("Junk", `01`),
		ddb("Junk", strings.Repeat("[", 120)+strings.Repeat("]", 120)), ddb("Junk", `NaN`), ddb("Junk", `tru`),
		` `+streamRecord(nil, nil)+"\t\r\n", streamRecord(nil, nil)+`x`, `{}`, `{"a":1}`, `[]`, ``, `{`,
		// OldImage before NewImage.
		strings.Replace(streamRecord(nil, map[string]string{"OldImage": `{"roomId":{"S":"old"}}`}), `"Keys":`, `"OldImage":{"roomId":{"S":"first"}},"Keys":`, 1),
		// Kinesis.
		kinesisRecord(t, "1", kinesisData(nil, nil)),
		kinesisRecord(t, "2", kinesisData(nil, map[string]string{"ApproximateCreationDateTimePrecision": `"MICROSECOND"`, "ApproximateCreationDateTime": "1775001600123456"})),
		kinesisRecord(t, "3", kinesisData(nil, map[string]string{"ApproximateCreationDateTimePrecision": `"SECOND"`})),
		kinesisRecord(t, "4", kinesisData(nil, map[string]string{"ApproximateCreationDateTimePrecision": `7`})),
		kinesisRecord(t, "5", kinesisData(map[string]string{"awsRegion": `"not a region"`}, nil)),
		kinesisRecord(t, "6", kinesisData(map[string]string{"tableName": `7`}, nil)),
		kinesisRecord(t, "7", " "+kinesisData(nil, nil)+" "),
		kinesisRecord(t, "8", kinesisData(nil, nil)+"x"),
		kinesisRecord(t, "9", `{"Records":[]}`),
		kinesisRecord(t, "10", strings.Replace(kinesisData(nil, nil), `"tableName"`, `"tableName":"x","tableName"`, 1)),
		kinesisData(nil, nil),
		strings.Replace(kinesisRecord(t, "11", kinesisData(nil, nil)), `"data":"`, `"data":"\/`, 1),
		strings.Replace(kinesisRecord(t, "12", kinesisData(nil, nil)), `=",`, `",`, 1),
		strings.Replace(kinesisRecord(t, "13", kinesisData(nil, nil)), `"eventSourceARN":"`, `"eventSourceARN":7,"x":"`, 1),
		strings.Replace(kinesisRecord(t, "14", kinesisData(nil, nil)), `"eventSourceARN":"arn:aws:kinesis:ap-northeast-2:123456789012`, `"eventSourceARN":"arn:aws:kinesis:ap-northeast-2:12345`, 1),
		// Export and incremental lines.
		`{"Item":{"id":{"S":"1"},"n":{"N":"2"}}}`, `{"Item":null}`, `{"Item":{}}`, `{"Item":{"id":{"S":"1"}},"Item":{}}`, `{"Item":[]}`, `{"Other":{}}`,
		`{"Metadata":{"WriteTimestampMicros":{"N":"1775001600000000"}},"Keys":{"id":{"S":"1"}},"NewImage":{"id":{"S":"1"}}}`,
		`{"Metadata":{"WriteTimestampMicros":{"N":"1775001600000000","N":"1"}},"Keys":{"id":{"S":"1"}}}`,
		`{"Metadata":{"WriteTimestampMicros":{"N":1775001600000000}},"Keys":{"id":{"S":"1"}}}`,
		`{"Metadata":{"WriteTimestampMicros":{"X":"1"}},"Keys":{"id":{"S":"1"}}}`,
		`{"Metadata":{"WriteTimestampMicros":"1775001600000000"},"Keys":{"id":{"S":"1"}},"OldImage":{"id":{"S":"1"}}}`,
		`{"Metadata":{"WriteTimestampMicros":1775001600000000},"Keys":{"id":{"S":"1"}},"OldImage":{"id":{"S":"1"}},"NewImage":{"id":{"S":"2"}}}`,
		`{"Metadata":{"WriteTimestampMicros":1775001600000000},"Keys":null,"NewImage":{"id":{"S":"1"}}}`,
		`{"Metadata":{"WriteTimestampMicros":1775001600000000,"WriteTimestampMicros":1},"Keys":{"id":{"S":"1"}}}`,
		`{"Metadata":null,"Keys":{"id":{"S":"1"}}}`,
	)
	return out
}

// mutants returns n variations of seed, each with a few bytes removed,
// repeated or replaced by bytes that matter to JSON, escapes and UTF-8.
func mutants(rng *rand.Rand, seed string, n int) []string {
	specials := []string{`"`, `\`, `{`, `}`, `[`, `]`, `:`, `,`, ` `, `0`, `-`, `.`, `e`, `n`, `t`, "\x00", "\xff", "\xc3",
		`\u00e9`, `\ud800`, `\udc00`, `\"`, `\\`, `"S":"x"`, `"N":"1"`, `{"NULL":true}`, `null`}
	out := make([]string, 0, n)
	for range n {
		b := []byte(seed)
		for range 1 + rng.IntN(3) {
			if len(b) == 0 {
				break
			}
			i := rng.IntN(len(b))
			switch rng.IntN(4) {
			case 0:
				b = append(b[:i:i], b[i+1:]...)
			case 1:
				b = append(b[:i+1:i+1], b[i:]...)
			default:
				s := specials[rng.IntN(len(specials))]
				b = append(append(b[:i:i], s...), b[i+1:]...)
			}
		}
		out = append(out, string(b))
	}
	return out
}

// TestFastPathMatchesParser decodes, both ways, every input fixture and
// the bundled sample (through their manifests), the fuzz corpora, the
// hostile records (each alone, as a Lambda payload and as lines), and
// mutants of good records of every format, and requires the same
// records, errors and rows.
func TestFastPathMatchesParser(t *testing.T) {
	ctx := context.Background()
	for _, root := range []string{inputsDir, "../../testdata/sample"} {
		r := Resolver{Local: LocalFS{Root: root}}
		ins, err := r.Resolve(ctx, ".")
		require.NoError(t, err)
		for _, opts := range fastPathOptions() {
			for _, in := range ins {
				fast, parser := bothWays(t, opts, func(d *Decoder, fn RecordFunc) error {
					return d.DecodeInput(ctx, in, FormatAuto, fn)
				})
				requireSameRows(t, fast, parser)
			}
		}
	}
	_ = filepath.WalkDir(inputsDir, func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() || strings.Contains(p, "golden") {
			return err
		}
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		sameBothWays(t, b, fastPathOptions()[0])
		return nil
	})

	records := append(hostileRecords(t), stringsOf(fuzzCorpora(t))...)
	for oi, opts := range fastPathOptions() {
		for _, r := range records {
			sameBothWays(t, []byte(r), opts)
			if oi == 0 && !brief() || !testing.Short() {
				sameBothWays(t, event(r, r), opts)
			}
		}
		// All at once, as one payload and as the lines of one input.
		sameBothWays(t, event(records...), opts)
		sameBothWays(t, []byte(strings.Join(records, "\n")), opts)
	}

	rng := rand.New(rand.NewPCG(11, 7))
	n := 400
	switch {
	case brief():
		n = 8
	case testing.Short():
		n = 30
	}
	seeds := append(eventtest.Good(t), kinesisRecord(t, "1", kinesisData(nil, nil)),
		`{"Item":{"id":{"S":"1"},"m":{"M":{"a":{"N":"1.5"},"l":{"L":[{"S":"x"},{"BOOL":true}]}}},"b":{"BS":["AQ=="]}}}`,
		`{"Metadata":{"WriteTimestampMicros":{"N":"1775001600000000"}},"Keys":{"id":{"S":"1"}},"NewImage":{"id":{"S":"1"},"ss":{"SS":["a","b"]}},"OldImage":{"id":{"S":"0"}}}`)
	opts := fastPathOptions()
	for _, seed := range seeds {
		ms := mutants(rng, seed, n)
		for _, m := range ms {
			sameBothWays(t, []byte(m), opts[rng.IntN(len(opts))])
		}
		sameBothWays(t, event(ms...), opts[len(opts)-1])
	}
}

func stringsOf(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}

// FuzzFastPath decodes any bytes both ways, alone and as a record among
// good ones, in every format: the two paths give the same records,
// errors and rows.
func FuzzFastPath(f *testing.F) {
	for _, b := range fuzzCorpora(f) {
		f.Add(b)
	}
	if !testing.Short() {
		// TestFastPathMatchesParser reads them all in a short run.
		for _, r := range hostileRecords(f) {
			if len(r) < 64<<10 {
				f.Add([]byte(r))
			}
		}
	}
	good := eventtest.Good(f)
	// The rows of the good records are compared by the other tests: here
	// once, under the rules, so that the fuzzer runs many inputs.
	rules := diffConfigs()[len(diffConfigs())-1:]
	rows := func(t testing.TB, fast, parser []*ChangeRecord) { requireSameRowsUnder(t, fast, parser, rules, 1) }
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := Options{Table: "fuzz-table", ExportTime: time.Unix(1775001600, 0), MaxRecordBytes: 1 << 20}
		sameBothWaysRows(t, data, opts, rows)
		sameBothWaysRows(t, event(good[0], string(data), good[1]), opts, rows)
		lines := strings.Join([]string{good[0], string(data), good[2]}, "\n")
		opts.UnusedOldImages = true
		sameBothWaysRows(t, []byte(lines), opts, rows)
	})
}

// readAllSeeker returns r's bytes when r can be read again from its
// start (so that both ways read the same input), else nil.
func readAllSeeker(r io.Reader) []byte {
	s, ok := r.(io.ReadSeeker)
	if !ok {
		return nil
	}
	b, err := io.ReadAll(s)
	if err != nil {
		return nil
	}
	if _, err := s.Seek(0, io.SeekStart); err != nil {
		return nil
	}
	return b
}

// TestFastPathStreamedRecordsKeepTheirImages reads event documents from
// a stream, whose buffer the scanner refills, keeps every record to the
// end, and then compares them with the parser's: the images of a record
// read where it lay in the buffer were moved to the record's own copy of
// its bytes, so refills do not change them.
func TestFastPathStreamedRecordsKeepTheirImages(t *testing.T) {
	var recs []string
	for i := range 3000 {
		recs = append(recs, streamRecord(map[string]string{"eventID": fmt.Sprintf(`"e%d"`, i)}, map[string]string{
			"NewImage": fmt.Sprintf(`{"roomId":{"S":"room-%d"},"body":{"S":"message %d \u00e9 %s"},"n":{"N":"%d"},"tags":{"SS":["a%d","b"]}}`, i, i, strings.Repeat("x", i%300), i, i)}))
	}
	chunks := []int{1 << 10, 7777, 1 << 20}
	if testing.Short() {
		recs, chunks = recs[:1000], chunks[:2]
	}
	payload := event(recs...)
	payload = append(payload, event(recs[:100]...)...) // a second document
	for _, chunk := range chunks {
		var ways [2][]*ChangeRecord
		for i := range ways {
			d, err := NewDecoder(Options{})
			require.NoError(t, err)
			d.parserOnly = i == 1
			err = d.Decode(context.Background(), &chunkReader{r: bytes.NewReader(payload), n: chunk}, "stream", FormatLambda,
				func(rec *ChangeRecord, rerr *RecordError) error {
					require.Nil(t, rerr)
					ways[i] = append(ways[i], rec)
					return nil
				})
			require.NoError(t, err)
		}
		require.Len(t, ways[0], len(recs)+100)
		for i := range ways[0] {
			requireSameTrace(t, snapshotOf(ways[1][i], nil), snapshotOf(ways[0][i], nil), "chunk %d record %d", chunk, i)
		}
		requireSameRows(t, ways[0], ways[1])
	}
}
