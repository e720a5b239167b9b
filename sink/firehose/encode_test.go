package firehose

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/schemas"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenDir is the repository's testdata/firehose.
var goldenDir = filepath.Join("..", "..", "testdata", "firehose")

func mustType(t testing.TB, s string) schemas.Type {
	t.Helper()
	typ, err := schemas.ParseType(s)
	require.NoError(t, err)
	return typ
}

// chatSchema is a chat-messages table with a column of every type.
func chatSchema(t testing.TB) *schemas.Schema {
	t.Helper()
	s := schemas.NewSchema("chat_messages")
	for _, c := range []struct{ name, path, typ string }{
		{"room_id", "roomId", "string"},
		{"message_id", "messageId", "string"},
		{"seq", "seq", "bigint"},
		{"price", "price", "decimal(12,2)"},
		{"score", "score", "double"},
		{"pinned", "pinned", "boolean"},
		{"thumb", "thumb", "binary"},
		{"edited_at", "editedAt", "timestamp"},
		{"payload", "payload", "json"},
		{"tags", "tags", "array<string>"},
		{"counts", "counts", "array<bigint>"},
		{"amounts", "amounts", "array<decimal(10,3)>"},
		{"blobs", "blobs", "array<binary>"},
		{"text", "text", "string"},
		{"read_by", "readBy", "map<string,bigint>"},
		{"seen", "seen", "map<string,json>"},
		{"tips", "tips", "map<string,decimal(10,2)>"},
	} {
		_, err := s.Add(schemas.Column{Name: c.name, Path: c.path, Type: mustType(t, c.typ)})
		require.NoError(t, err)
	}
	return s
}

func str(s string) flatten.Datum            { return flatten.Datum{Valid: true, Str: s} }
func i64(v int64) flatten.Datum             { return flatten.Datum{Valid: true, Int: v} }
func f64(v float64) flatten.Datum           { return flatten.Datum{Valid: true, Float: v} }
func boolean(v bool) flatten.Datum          { return flatten.Datum{Valid: true, Bool: v} }
func bin(b []byte) flatten.Datum            { return flatten.Datum{Valid: true, Bytes: b} }
func list(d ...flatten.Datum) flatten.Datum { return flatten.Datum{Valid: true, List: d} }

func entries(kv ...any) flatten.Datum {
	var pairs []flatten.Datum
	for i := 0; i < len(kv); i += 2 {
		pairs = append(pairs, str(kv[i].(string)), kv[i+1].(flatten.Datum))
	}
	return flatten.MapOf(pairs...)
}

// chatRows are rows covering every type, nulls, escapes and edge times.
func chatRows() []flatten.Row {
	return []flatten.Row{
		{
			Meta: flatten.Meta{EventName: "INSERT", EventID: "4b2f0e1c", EventTime: 1775046605123,
				Sequence: "0000000000000000000111122223333444455556"},
			Values: []flatten.Datum{
				str("room-1"), str("m-1"), i64(42), str("12.50"), f64(0.1), boolean(true),
				bin([]byte{0x89, 'P', 'N', 'G', 0}), i64(1775046600000), str(`{"M":{"a":{"S":"b"}}}`),
				list(str("a"), str("b")), list(i64(1), i64(-2)), list(str("1.000"), str("-0.250")),
				list(bin([]byte("x")), bin(nil)), str("héllo \"wörld\"\n\ttab\u2028 😀"),
				entries("u0uqeh6k", i64(1775046600000), "🥕", i64(-3), "Mixed\"Case\n", flatten.Datum{}),
				entries("u1", str(`{"M":{"ts":{"N":"1"}}}`)),
				entries("a", str("12.50"), "b", str("-0.05")),
			},
		},
		{
			// A REMOVE by TTL with _extra, nulls, a short row and an
			// invalid UTF-8 string.
			Meta: flatten.Meta{EventName: "REMOVE", EventID: "e2", EventTime: 1775088000000,
				Sequence: "0000000000000000000111122223333444455557", TTLDelete: true},
			Values: []flatten.Datum{str("room-1"), {}, i64(math.MinInt64), str("-0.05"), f64(math.NaN()),
				boolean(false), {}, {}, {}, list(), {}, {}, {}, {}},
			Extra: []byte(`{"seq":{"S":"not a number"},"x":{"NULL":true}}`),
		},
		{
			// A snapshot before 1970, with a short row and a control
			// character.
			Meta:   flatten.Meta{EventName: "SNAPSHOT", EventTime: -1},
			Values: []flatten.Datum{str("r\x00\x1f\xff"), str("m-3"), i64(math.MaxInt64), str("99999999.99"), f64(-1e300)},
		},
	}
}

func TestEncodeRowGolden(t *testing.T) {
	s := chatSchema(t)
	var got []byte
	for _, hourly := range []bool{false, true} {
		rows := chatRows()
		for i := range rows {
			got = EncodeRow(got, s, &rows[i], hourly)
		}
	}
	path := filepath.Join(goldenDir, "rows.golden.jsonl")
	if *update {
		require.NoError(t, os.MkdirAll(goldenDir, 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	require.Equal(t, string(want), string(got))
}

// TestEncodeRowValues decodes each record with encoding/json and checks
// every field against the row it came from.
func TestEncodeRowValues(t *testing.T) {
	s := chatSchema(t)
	for _, hourly := range []bool{false, true} {
		for _, row := range chatRows() {
			line := EncodeRow(nil, s, &row, hourly)
			require.True(t, bytes.HasSuffix(line, []byte("}\n")), "newline-terminated")
			require.Equal(t, 1, bytes.Count(line, []byte("\n")), "one line")
			require.True(t, json.Valid(line))

			dec := json.NewDecoder(bytes.NewReader(line))
			dec.UseNumber()
			var m map[string]any
			require.NoError(t, dec.Decode(&m))

			when := time.UnixMilli(row.EventTime).UTC()
			require.Equal(t, row.EventName, m["_event_name"])
			require.Equal(t, row.EventID, m["_event_id"])
			require.Equal(t, row.Sequence, m["_sequence_number"])
			require.Equal(t, row.TTLDelete, m["_ttl_delete"])
			ts, err := time.Parse(TimestampLayout, m["_event_time"].(string))
			require.NoError(t, err)
			require.Equal(t, when, ts, "_event_time keeps the millisecond")
			require.Equal(t, when.Format("2006-01-02"), m["dt"])
			if hourly {
				require.Equal(t, when.Format("15"), m["hr"])
			} else {
				require.NotContains(t, m, "hr")
			}
			if row.Extra == nil {
				require.Contains(t, m, "_extra")
				require.Nil(t, m["_extra"])
			} else {
				require.Equal(t, string(row.Extra), m["_extra"])
			}

			want := 6 + 1 // metadata and dt
			if hourly {
				want++
			}
			for i, col := range s.Columns {
				var d flatten.Datum
				if i < len(row.Values) {
					d = row.Values[i]
				}
				v, present := m[col.Name]
				if !d.Valid || (col.Type.Kind == schemas.KindDouble && math.IsNaN(d.Float)) {
					require.False(t, present, "null %s is left out", col.Name)
					continue
				}
				require.True(t, present, col.Name)
				want++
				requireValue(t, col.Type, d, v, col.Name)
			}
			require.Len(t, m, want, "no other fields")
		}
	}
}

// requireValue checks that the decoded JSON value v holds d of type typ.
func requireValue(t *testing.T, typ schemas.Type, d flatten.Datum, v any, name string) {
	t.Helper()
	switch typ.Kind {
	case schemas.KindString, schemas.KindJSON:
		require.Equal(t, strings.ToValidUTF8(d.Str, "\uFFFD"), v, name)
	case schemas.KindBigint:
		require.Equal(t, json.Number(strconv.FormatInt(d.Int, 10)), v, name)
	case schemas.KindDecimal:
		// The exact text, trailing zeros included: no float on the way.
		require.Equal(t, json.Number(d.Str), v, name)
	case schemas.KindDouble:
		f, err := v.(json.Number).Float64()
		require.NoError(t, err)
		require.Equal(t, d.Float, f, name)
	case schemas.KindBoolean:
		require.Equal(t, d.Bool, v, name)
	case schemas.KindBinary:
		b, err := base64.StdEncoding.DecodeString(v.(string))
		require.NoError(t, err, name)
		require.Equal(t, string(d.Bytes), string(b), name)
	case schemas.KindTimestamp:
		ts, err := time.Parse(TimestampLayout, v.(string))
		require.NoError(t, err, name)
		require.Equal(t, d.Int, ts.UnixMilli(), name)
	case schemas.KindArray:
		arr, ok := v.([]any)
		require.True(t, ok, "%s is a JSON array", name)
		require.Len(t, arr, len(d.List), name)
		for i := range arr {
			requireValue(t, *typ.Elem, d.List[i], arr[i], name)
		}
	case schemas.KindMap:
		obj, ok := v.(map[string]any)
		require.True(t, ok, "%s is a JSON object", name)
		require.Len(t, obj, d.MapLen(), name)
		for i := range d.MapLen() {
			k := d.MapKey(i)
			e, ok := obj[k]
			require.True(t, ok, "%s[%q]", name, k)
			if !d.MapValue(i).Valid {
				require.Nil(t, e, "%s[%q] is null", name, k)
				continue
			}
			requireValue(t, *typ.Elem, *d.MapValue(i), e, name)
		}
	default:
		t.Fatalf("%s: unexpected type %s", name, typ)
	}
}

func TestEncodeRowDecimalFallback(t *testing.T) {
	s := schemas.NewSchema("t")
	_, err := s.Add(schemas.Column{Name: "d", Path: "d", Type: schemas.Decimal(10, 2)})
	require.NoError(t, err)
	for _, text := range []string{"1.50", "-0.25", "0", "12", "1e5"} {
		row := flatten.Row{Values: []flatten.Datum{str(text)}}
		require.Contains(t, string(EncodeRow(nil, s, &row, false)), `"d":`+text+`,`, "a number")
	}
	for _, text := range []string{"", ".5", "01.5", "+1", "1.", "NaN", "1e", "1 "} {
		row := flatten.Row{Values: []flatten.Datum{str(text)}}
		line := EncodeRow(nil, s, &row, false)
		require.True(t, json.Valid(line), "%q keeps the record valid JSON", text)
		require.Contains(t, string(line), `"d":`+strconv.Quote(text), "%q is written as a string", text)
	}
}

func TestAppendTimestamp(t *testing.T) {
	for _, tc := range []struct {
		ms   int64
		want string
	}{
		{0, "1970-01-01 00:00:00.000"},
		{-1, "1969-12-31 23:59:59.999"},
		{1775046605123, "2026-04-01 12:30:05.123"},
		{999999999999, "2001-09-09 01:46:39.999"},
		{253402300799999, "9999-12-31 23:59:59.999"},
	} {
		require.Equal(t, tc.want, string(appendTimestamp(nil, tc.ms)), "%d", tc.ms)
	}
	// Agrees with the standard library's formatting over a wide range.
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		ms := rng.Int64N(2*253402300799999) - 62135596800000
		require.Equal(t, time.UnixMilli(ms).UTC().Format(TimestampLayout), string(appendTimestamp(nil, ms)), "%d", ms)
	}
}

func TestValidJSONNumber(t *testing.T) {
	for s, want := range map[string]bool{
		"0": true, "-0": true, "12.50": true, "-12.50": true, "1e10": true, "1E+10": true, "2.5e-3": true,
		"": false, "-": false, ".5": false, "01": false, "1.": false, "+1": false, "1e": false,
		"1e+": false, "0x10": false, "1_000": false, " 1": false, "Infinity": false,
	} {
		var v any
		stdlib := json.Unmarshal([]byte(s), &v) == nil && s != "" && s[0] != ' '
		require.Equal(t, want, validJSONNumber(s), "%q", s)
		require.Equal(t, stdlib, validJSONNumber(s), "%q agrees with encoding/json", s)
	}
}

// TestEncodeRowRandom checks that random rows always make one valid JSON
// line holding exactly the non-null cells.
func TestEncodeRowRandom(t *testing.T) {
	s := chatSchema(t)
	rng := rand.New(rand.NewPCG(3, 4))
	randStr := func() string {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return string(b)
	}
	var buf []byte
	for range 2000 {
		row := flatten.Row{Meta: flatten.Meta{EventName: randStr(), EventID: randStr(), Sequence: randStr(),
			EventTime: rng.Int64N(4e12) - 1e12, TTLDelete: rng.IntN(2) == 0}}
		if rng.IntN(2) == 0 {
			row.Extra = []byte(randStr())
		}
		nonNull := 0
		for _, col := range s.Columns[:rng.IntN(len(s.Columns)+1)] {
			if rng.IntN(3) == 0 {
				row.Values = append(row.Values, flatten.Datum{})
				continue
			}
			nonNull++
			var d flatten.Datum
			switch col.Type.Kind {
			case schemas.KindBigint, schemas.KindTimestamp:
				d = i64(rng.Int64N(1e12))
			case schemas.KindDecimal:
				d = str(strconv.Itoa(rng.IntN(1e6)) + "." + strconv.Itoa(10+rng.IntN(90)))
			case schemas.KindDouble:
				d = f64(rng.NormFloat64() * 1e10)
			case schemas.KindBoolean:
				d = boolean(true)
			case schemas.KindBinary:
				d = bin([]byte(randStr()))
			case schemas.KindArray:
				d = list(str("1"), str("2"))
				if col.Type.Elem.Kind == schemas.KindBigint {
					d = list(i64(1), i64(2))
				}
			case schemas.KindMap:
				d = entries(randStr(), str("1.00"), randStr()+"x", flatten.Datum{})
				if col.Type.Elem.Kind == schemas.KindBigint {
					d = entries(randStr(), i64(rng.Int64N(1e12)))
				}
			default:
				d = str(randStr())
			}
			row.Values = append(row.Values, d)
		}
		hourly := rng.IntN(2) == 0
		start := len(buf)
		buf = EncodeRow(buf, s, &row, hourly)
		line := buf[start:]
		require.True(t, json.Valid(line), "%q", line)
		require.Equal(t, 1, bytes.Count(line, []byte("\n")))
		var m map[string]any
		require.NoError(t, json.Unmarshal(line, &m))
		want := 7 + nonNull
		if hourly {
			want++
		}
		require.Len(t, m, want)
	}
}

func TestRecords(t *testing.T) {
	s := chatSchema(t)
	rows := chatRows()
	var recs Records
	for round := range 2 {
		recs.Reset()
		var want [][]byte
		for i := range 300 { // enough to grow the buffer several times
			row := &rows[i%len(rows)]
			recs.Add(i*2, s, row, round == 1)
			want = append(want, EncodeRow(nil, s, row, round == 1))
		}
		entries := recs.Entries()
		require.Len(t, entries, 300)
		require.Equal(t, 300, recs.Len())
		total := 0
		for i, e := range entries {
			require.Equal(t, "chat_messages", e.Table)
			require.Equal(t, i*2, e.Index)
			require.Equal(t, string(want[i]), string(e.Data))
			require.Equal(t, len(e.Data), cap(e.Data), "appending to one entry cannot clobber the next")
			total += len(e.Data)
		}
		require.Equal(t, total, recs.Size())
	}
}

func BenchmarkEncodeRow(b *testing.B) {
	s := chatSchema(b)
	rows := chatRows()
	row := &rows[0]
	buf := EncodeRow(nil, s, row, false)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		buf = EncodeRow(buf[:0], s, row, false)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkRecords(b *testing.B) {
	s := chatSchema(b)
	rows := chatRows()
	var recs Records
	const batch = 1000
	for i := range batch {
		recs.Add(i, s, &rows[i%2], false)
	}
	b.SetBytes(int64(recs.Size()))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		recs.Reset()
		for i := range batch {
			recs.Add(i, s, &rows[i%2], false)
		}
		_ = recs.Entries()
	}
	b.ReportMetric(float64(b.N)*batch/b.Elapsed().Seconds(), "rows/s")
}
