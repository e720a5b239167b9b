package sink_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go/format"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
)

// allTypes is a schema with a column of every type, and one column no
// test row fills.
func allTypes() *schemas.Schema {
	s := schemas.NewSchema("orders")
	for _, c := range []struct {
		name string
		typ  schemas.Type
	}{
		{"customer", schemas.String},
		{"qty", schemas.Bigint},
		{"big", schemas.Decimal(38, 0)},
		{"tiny", schemas.Decimal(38, 38)},
		{"price", schemas.Decimal(12, 2)},
		{"rate", schemas.Double},
		{"paid", schemas.Boolean},
		{"blob", schemas.Binary},
		{"shipped_at", schemas.Timestamp},
		{"meta", schemas.JSON},
		{"tags", schemas.ArrayOf(schemas.String)},
		{"counts", schemas.ArrayOf(schemas.Bigint)},
		{"amounts", schemas.ArrayOf(schemas.Decimal(20, 4))},
		{"chunks", schemas.ArrayOf(schemas.Binary)},
		{"small", schemas.Decimal(5, 2)},
		{"never", schemas.String},
		{"scores", schemas.ArrayOf(schemas.Double)},
		{"flags", schemas.ArrayOf(schemas.Boolean)},
		{"times", schemas.ArrayOf(schemas.Timestamp)},
	} {
		if _, err := s.Add(schemas.Column{Name: c.name, Path: c.name, Type: c.typ}); err != nil {
			panic(err)
		}
	}
	return s
}

func str(s string) flatten.Datum   { return flatten.Datum{Valid: true, Str: s} }
func i64(n int64) flatten.Datum    { return flatten.Datum{Valid: true, Int: n} }
func f64(f float64) flatten.Datum  { return flatten.Datum{Valid: true, Float: f} }
func boolean(b bool) flatten.Datum { return flatten.Datum{Valid: true, Bool: b} }
func bin(b []byte) flatten.Datum   { return flatten.Datum{Valid: true, Bytes: b} }
func list(ds ...flatten.Datum) flatten.Datum {
	return flatten.Datum{Valid: true, List: append([]flatten.Datum{}, ds...)}
}

var null flatten.Datum

const apr1 = int64(1775001600000) // 2026-04-01T00:00:00Z in ms

// allTypesRows exercise every type: extreme decimals, negative values,
// arrays, empty and null values, short rows and _extra.
func allTypesRows() []flatten.Row {
	meta := func(i int) flatten.Meta {
		return flatten.Meta{EventName: "INSERT", EventID: fmt.Sprintf("ev-%d", i), EventTime: apr1 + int64(i)*61_000,
			Sequence: fmt.Sprintf("%040d", 1000+i)}
	}
	return []flatten.Row{
		{Meta: meta(0), Values: []flatten.Datum{
			str("alice"), i64(9223372036854775807), str("99999999999999999999999999999999999999"),
			str("0.00000000000000000000000000000000000001"), str("-12.50"), f64(3.25), boolean(true),
			bin([]byte{0, 1, 2, 0xff}), i64(apr1 + 123), str(`{"a":{"S":"x"}}`),
			list(str("red"), str("blue")), list(i64(-1), i64(0), i64(1)),
			list(str("1234567890123456.7890"), str("-0.0001")), list(bin([]byte("x")), bin([]byte{})),
			str("-999.99"), null, list(f64(1.5), f64(-2)), list(boolean(true), boolean(false)), list(i64(apr1), i64(0)),
		}, Extra: []byte(`{"odd":{"N":"1e400"}}`)},
		{Meta: meta(1), Values: []flatten.Datum{
			str(""), i64(-9223372036854775808), str("-99999999999999999999999999999999999999"),
			str("-0.00000000000000000000000000000000000001"), str("0.00"), f64(-0.5), boolean(false),
			bin([]byte{}), i64(-86_400_000), str(`[]`),
			list(), list(), list(), list(),
			str("999.99"),
		}},
		{Meta: flatten.Meta{EventName: "REMOVE", EventTime: apr1 + 3_600_000, TTLDelete: true}, Values: []flatten.Datum{
			str("bob"), null, str("0"), str("-0.99999999999999999999999999999999999999"), str("12345678.99"),
		}},
		{Meta: meta(3)}, // no data cells at all
		{Meta: meta(4), Values: []flatten.Datum{
			null, i64(42), null, null, null, null, null, null, null, null,
			list(str("ünïcode ✓")), null, list(str("-99999999999999.9999")), null,
		}},
	}
}

func encodeAll(t testing.TB, enc *sink.Encoder, s *schemas.Schema, rows []flatten.Row) []sink.EncodedFile {
	t.Helper()
	var files []sink.EncodedFile
	require.NoError(t, enc.Encode(s, rows, func(f sink.EncodedFile) error {
		f.Body = bytes.Clone(f.Body)
		files = append(files, f)
		return nil
	}))
	return files
}

func newEncoder(t testing.TB, o sink.ParquetOptions) *sink.Encoder {
	t.Helper()
	enc, err := sink.NewEncoder(o)
	require.NoError(t, err)
	return enc
}

func TestParquetRoundTripEveryType(t *testing.T) {
	t.Parallel()
	s := allTypes()
	rows := allTypesRows()
	files := encodeAll(t, newEncoder(t, sink.ParquetOptions{}), s, rows)
	require.Len(t, files, 1)
	require.Equal(t, len(rows), files[0].Rows)
	require.Equal(t, 1, files[0].RowGroups)
	got := readRows(t, files[0].Body, s)
	require.Equal(t, normalize(s, rows), got)
	// "never" has no value in any row: it is not in the file.
	require.Equal(t, []string{"customer", "qty", "big", "tiny", "price", "rate", "paid", "blob", "shipped_at",
		"meta", "tags", "counts", "amounts", "chunks", "small", "scores", "flags", "times"}, files[0].Columns)
	_, ok := openParquet(t, files[0].Body).Schema().Lookup("never")
	require.False(t, ok)
}

// TestParquetOldImage checks that _old_image, like _extra, is in every
// file, optional, and reads back whole.
func TestParquetOldImage(t *testing.T) {
	t.Parallel()
	s := allTypes()
	rows := allTypesRows()
	plain := encodeAll(t, newEncoder(t, sink.ParquetOptions{}), s, rows)[0].Body
	_, ok := openParquet(t, plain).Schema().Lookup(schemas.ColOldImage)
	require.True(t, ok, "in every file, as Athena and DuckDB views expect")

	rows[1].OldImage = []byte(`{"customer":{"S":"before"}}`)
	body := encodeAll(t, newEncoder(t, sink.ParquetOptions{}), s, rows)[0].Body
	leaf, ok := openParquet(t, body).Schema().Lookup(schemas.ColOldImage)
	require.True(t, ok)
	require.True(t, leaf.Node.Optional())
	got := readRows(t, body, s)
	require.Equal(t, normalize(s, rows), got)
	require.Nil(t, got[0].OldImage)
}

func TestParquetFileMetadata(t *testing.T) {
	t.Parallel()
	s := allTypes()
	body := encodeAll(t, newEncoder(t, sink.ParquetOptions{}), s, allTypesRows())[0].Body
	f := openParquet(t, body)
	md := f.Metadata()
	require.Equal(t, "ddblake", md.CreatedBy)
	require.Empty(t, md.KeyValueMetadata)

	// Every column is zstd; the schema names are sorted.
	rg := &md.RowGroups[0]
	var names []string
	for _, c := range rg.Columns {
		require.Equal(t, format.Zstd, c.MetaData.Codec, "%v", c.MetaData.PathInSchema)
		names = append(names, c.MetaData.PathInSchema[0])
	}
	require.IsNonDecreasing(t, names)

	// Metadata columns: required, except _extra and _old_image.
	for _, name := range []string{"_event_name", "_event_id", "_event_time", "_sequence_number", "_ttl_delete"} {
		leaf, ok := f.Schema().Lookup(name)
		require.True(t, ok, name)
		require.True(t, leaf.Node.Required(), name)
	}
	extra, _ := f.Schema().Lookup("_extra")
	require.True(t, extra.Node.Optional())
	data, _ := f.Schema().Lookup("qty")
	require.True(t, data.Node.Optional())

	// Timestamps: INT64 TIMESTAMP(MILLIS, adjusted to UTC).
	for _, path := range [][]string{{"_event_time"}, {"shipped_at"}, {"times", "list", "element"}} {
		name := path[0]
		leaf, ok := f.Schema().Lookup(path...)
		require.True(t, ok, name)
		require.Equal(t, format.Int64, *leaf.Node.Type().PhysicalType(), name)
		ts, ok := leaf.Node.Type().LogicalType().Value.(*format.TimestampType)
		require.True(t, ok, name)
		require.True(t, ts.IsAdjustedToUTC, name)
		_, millis := ts.Unit.Value.(*format.MilliSeconds)
		require.True(t, millis, name)
	}

	// Strings (and JSON, and string arrays) are dictionary encoded where
	// their values repeat (_event_name: INSERT every time), plain where
	// they do not (see TestParquetDictionaryByCardinality).
	for _, name := range []string{"_event_name"} {
		cc := columnChunk(t, rg, name)
		require.Contains(t, cc.MetaData.Encoding, format.RLEDictionary, name)
		require.NotZero(t, cc.MetaData.DictionaryPageOffset, name)
	}
	for _, name := range []string{"_event_id", "_sequence_number", "customer", "meta", "tags"} {
		cc := columnChunk(t, rg, name)
		require.NotContains(t, cc.MetaData.Encoding, format.RLEDictionary, name)
		require.Contains(t, cc.MetaData.Encoding, format.Plain, name)
	}

	// Binary is plain: the encoding every reader knows.
	blob := columnChunk(t, rg, "blob")
	require.Contains(t, blob.MetaData.Encoding, format.Plain)
	require.NotContains(t, blob.MetaData.Encoding, format.DeltaLengthByteArray)

	// Decimals: FIXED_LEN_BYTE_ARRAY DECIMAL(p,s) without min/max anywhere.
	ci, _, err := f.ReadPageIndex()
	require.NoError(t, err)
	for _, c := range []struct {
		name      string
		prec, len int
	}{{"big", 38, 16}, {"tiny", 38, 16}, {"price", 12, 6}, {"amounts", 20, 9}, {"small", 5, 3}} {
		cc := columnChunk(t, rg, c.name)
		require.Equal(t, format.FixedLenByteArray, cc.MetaData.Type, c.name)
		path := []string{c.name}
		if c.name == "amounts" {
			path = []string{"amounts", "list", "element"}
		}
		leaf, _ := f.Schema().Lookup(path...)
		require.Equal(t, c.len, leaf.Node.Type().Length(), c.name)
		dec, ok := leaf.Node.Type().LogicalType().Value.(*format.DecimalType)
		require.True(t, ok, c.name)
		require.EqualValues(t, c.prec, dec.Precision, c.name)
		st := cc.MetaData.Statistics
		require.Nil(t, st.MinValue, c.name)
		require.Nil(t, st.MaxValue, c.name)
		require.Nil(t, st.Min, c.name)
		require.Nil(t, st.Max, c.name)
		for _, h := range pageHeaders(t, body, cc) {
			if h.DataPageHeader.Valid {
				hs := h.DataPageHeader.V.Statistics
				require.Nil(t, hs.MinValue, c.name)
				require.Nil(t, hs.MaxValue, c.name)
				require.Nil(t, hs.Min, c.name)
				require.Nil(t, hs.Max, c.name)
			}
		}
		// The column index is well formed and claims the full signed range.
		idx := ci[columnOrdinal(rg, c.name)]
		require.Len(t, idx.MinValues, len(idx.NullPages), c.name)
		lowest := append([]byte{0x80}, make([]byte, c.len-1)...)
		highest := append([]byte{0x7f}, bytes.Repeat([]byte{0xff}, c.len-1)...)
		for p, nullPage := range idx.NullPages {
			if !nullPage {
				require.Equal(t, lowest, idx.MinValues[p], c.name)
				require.Equal(t, highest, idx.MaxValues[p], c.name)
			}
		}
	}

	// Other columns keep statistics: qty spans int64.
	st := columnChunk(t, rg, "qty").MetaData.Statistics
	require.Len(t, st.MinValue, 8)
	require.Equal(t, []byte{0, 0, 0, 0, 0, 0, 0, 0x80}, st.MinValue) // little-endian min int64
	require.EqualValues(t, 2, st.NullCount)                          // rows 2 and 3
}

func columnOrdinal(rg *format.RowGroup, name string) int {
	for i, c := range rg.Columns {
		if c.MetaData.PathInSchema[0] == name {
			return i
		}
	}
	return -1
}

func TestParquetCompressionChoices(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		opt  sink.Compression
		want format.CompressionCodec
	}{
		{"", format.Zstd},
		{sink.CompressionZstd, format.Zstd},
		{sink.CompressionSnappy, format.Snappy},
		{sink.CompressionGzip, format.Gzip},
		{sink.CompressionNone, format.Uncompressed},
	} {
		t.Run(string(tc.opt), func(t *testing.T) {
			s := allTypes()
			rows := allTypesRows()
			body := encodeAll(t, newEncoder(t, sink.ParquetOptions{Compression: tc.opt}), s, rows)[0].Body
			for _, c := range openParquet(t, body).Metadata().RowGroups[0].Columns {
				require.Equal(t, tc.want, c.MetaData.Codec)
			}
			require.Equal(t, normalize(s, rows), readRows(t, body, s))
		})
	}
	_, err := sink.NewEncoder(sink.ParquetOptions{Compression: "lzo"})
	require.ErrorIs(t, err, sink.ErrBadConfig)
}

// manyRows makes n rows of a realistic table (see benchRows).
func manyRows(n int) (*schemas.Schema, []flatten.Row) { return benchTable(n) }

func TestParquetRowGroupsAndFilesBounded(t *testing.T) {
	t.Parallel()
	s, rows := manyRows(3000)
	// Snappy: the race detector makes zstd's per-page encoder set-up slow.
	opts := sink.ParquetOptions{RowGroupBytes: 24 << 10, FileBytes: 80 << 10, PageBytes: 4 << 10, Compression: sink.CompressionSnappy}
	files := encodeAll(t, newEncoder(t, opts), s, rows)
	require.Greater(t, len(files), 2, "several files")
	var back []flatten.Row
	for i, f := range files {
		md := openParquet(t, f.Body).Metadata()
		require.Equal(t, f.RowGroups, len(md.RowGroups))
		require.EqualValues(t, f.Rows, md.NumRows)
		if i < len(files)-1 {
			require.Greater(t, len(md.RowGroups), 1, "file %d has several row groups", i)
		}
		// The limits are checked every 64 rows: a row group or file ends
		// at most one such write past its limit. (The footer and page
		// index come on top; they are small next to real limits.)
		var data int64
		for _, rg := range md.RowGroups {
			require.Less(t, rg.TotalCompressedSize, 2*opts.RowGroupBytes)
			data += rg.TotalCompressedSize
		}
		require.Less(t, data, opts.FileBytes+opts.RowGroupBytes, "file %d data size", i)
		back = append(back, readRows(t, f.Body, s)...)
	}
	require.Equal(t, normalize(s, rows), back, "all rows, in order, across files")
}

func TestParquetDeterministic(t *testing.T) {
	t.Parallel()
	s := allTypes()
	rows := allTypesRows()
	enc := newEncoder(t, sink.ParquetOptions{})
	first := encodeAll(t, enc, s, rows)[0].Body
	// The same encoder, reused after other work, and a fresh one.
	big, bigRows := manyRows(500)
	encodeAll(t, enc, big, bigRows)
	requireSameBytes(t, first, encodeAll(t, enc, s, rows)[0].Body, "reused encoder")
	requireSameBytes(t, first, encodeAll(t, newEncoder(t, sink.ParquetOptions{}), s, rows)[0].Body, "fresh encoder")

	// The registry gained columns since: the same rows give the same file.
	grown := s.Clone()
	for _, name := range []string{"later", "zzz", "aaa_first_by_name"} {
		_, err := grown.Add(schemas.Column{Name: name, Path: name, Type: schemas.Bigint, FirstSeen: time.Unix(1, 0)})
		require.NoError(t, err)
	}
	requireSameBytes(t, first, encodeAll(t, enc, grown, rows)[0].Body, "grown schema")
}

func TestParquetFileSchemaFollowsItsOwnRows(t *testing.T) {
	t.Parallel()
	// Rows of the first file never set "late"; rows of the last do. Each
	// file's schema holds only the columns its rows use, and a rerun gives
	// the same bytes.
	s, rows := manyRows(1200)
	late, err := s.Add(schemas.Column{Name: "late", Path: "late", Type: schemas.String})
	require.NoError(t, err)
	j, _ := s.Lookup(late.Path)
	for i := 1000; i < len(rows); i++ {
		rows[i].Values = append(rows[i].Values, make([]flatten.Datum, j+1-len(rows[i].Values))...)
		rows[i].Values[j] = str("late value")
	}
	// Snappy: the race detector makes zstd's per-page encoder set-up slow.
	opts := sink.ParquetOptions{RowGroupBytes: 16 << 10, FileBytes: 40 << 10, PageBytes: 4 << 10, Compression: sink.CompressionSnappy}
	files := encodeAll(t, newEncoder(t, opts), s, rows)
	require.Greater(t, len(files), 2)
	require.NotContains(t, files[0].Columns, "late")
	_, ok := openParquet(t, files[0].Body).Schema().Lookup("late")
	require.False(t, ok)
	require.Contains(t, files[len(files)-1].Columns, "late")
	again := encodeAll(t, newEncoder(t, opts), s, rows)
	require.Len(t, again, len(files))
	for i := range files {
		requireSameBytes(t, files[i].Body, again[i].Body, fmt.Sprintf("file %d", i))
	}
	var back []flatten.Row
	for _, f := range files {
		back = append(back, readRows(t, f.Body, s)...)
	}
	require.Equal(t, normalize(s, rows), back)
}

func TestParquetBadDecimalNamesRowAndColumn(t *testing.T) {
	t.Parallel()
	s := allTypes()
	rows := allTypesRows()
	rows[2].Values[4] = str("123456789012.5") // decimal(12,2) holds 10 integer digits
	err := newEncoder(t, sink.ParquetOptions{}).Encode(s, rows, func(sink.EncodedFile) error { return nil })
	var ee *sink.EncodeError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, 2, ee.Row)
	require.Equal(t, "price", ee.Column)
	require.ErrorIs(t, err, sink.ErrBadDecimal)
}

func TestParquetEmitErrorStops(t *testing.T) {
	t.Parallel()
	s, rows := manyRows(3000)
	boom := errors.New("boom")
	calls := 0
	err := newEncoder(t, sink.ParquetOptions{FileBytes: 32 << 10, PageBytes: 8 << 10}).Encode(s, rows, func(sink.EncodedFile) error {
		calls++
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.Equal(t, 1, calls)
}

// requireSameBytes compares file bodies without dumping them.
func requireSameBytes(t testing.TB, want, got []byte, what string) {
	t.Helper()
	if bytes.Equal(want, got) {
		return
	}
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	t.Fatalf("%s: files differ: %d vs %d bytes, first difference at offset %d", what, len(want), len(got), i)
}

func TestParquetDictionaryFallsBackToPlain(t *testing.T) {
	t.Parallel()
	s, rows := manyRows(800)
	// Each sort key twice: the values repeat, so the column starts as a
	// dictionary, which outgrows its bound.
	skCol := slices.IndexFunc(s.Columns, func(c schemas.Column) bool { return c.Name == "sk" })
	for i := range rows {
		rows[i].Values[skCol] = str(fmt.Sprintf("MSG#%012d", i/2))
	}
	opts := sink.ParquetOptions{DictionaryMaxBytes: 2 << 10, PageBytes: 4 << 10, Compression: sink.CompressionSnappy}
	enc := newEncoder(t, opts)
	files := encodeAll(t, enc, s, rows)
	require.Len(t, files, 1)
	rg := &openParquet(t, files[0].Body).Metadata().RowGroups[0]
	plainDataPages := func(cc *format.ColumnChunk) int {
		n := 0
		for _, st := range cc.MetaData.EncodingStats {
			if st.PageType == format.DataPage && st.Encoding == format.Plain {
				n += int(st.Count)
			}
		}
		return n
	}
	sk := columnChunk(t, rg, "sk") // 400 values: outgrows the dictionary
	require.Contains(t, sk.MetaData.Encoding, format.RLEDictionary)
	require.Positive(t, plainDataPages(sk))
	lang := columnChunk(t, rg, "lang") // four values: stays a dictionary
	require.Contains(t, lang.MetaData.Encoding, format.RLEDictionary)
	require.Zero(t, plainDataPages(lang))
	require.Equal(t, normalize(s, rows), readRows(t, files[0].Body, s))
	// And the fallback does not leak into the next file.
	requireSameBytes(t, files[0].Body, encodeAll(t, enc, s, rows)[0].Body, "second encoding")
}

func entries(kv ...any) flatten.Datum {
	var pairs []flatten.Datum
	for i := 0; i < len(kv); i += 2 {
		pairs = append(pairs, str(kv[i].(string)), kv[i+1].(flatten.Datum))
	}
	return flatten.MapOf(pairs...)
}

// TestParquetMapColumns checks that map columns are written as the
// Parquet MAP logical type (an optional group holding a repeated
// key_value group of a required string key and an optional value, the
// shape Athena and DuckDB read) and read back entry by entry, null values
// and null maps included.
func TestParquetMapColumns(t *testing.T) {
	t.Parallel()
	s := schemas.NewSchema("messages")
	for _, c := range []struct {
		name string
		typ  schemas.Type
	}{
		{"read_by", schemas.MapOf(schemas.Bigint)},
		{"tips", schemas.MapOf(schemas.Decimal(12, 2))},
		{"seen", schemas.MapOf(schemas.JSON)},
		{"names", schemas.MapOf(schemas.String)},
		{"flags", schemas.MapOf(schemas.Boolean)},
		{"blobs", schemas.MapOf(schemas.Binary)},
		{"scores", schemas.MapOf(schemas.Double)},
		{"id", schemas.String},
	} {
		_, err := s.Add(schemas.Column{Name: c.name, Path: c.name, Type: c.typ})
		require.NoError(t, err)
	}
	meta := flatten.Meta{EventName: "INSERT", EventTime: apr1}
	rows := []flatten.Row{
		{Meta: meta, Values: []flatten.Datum{
			entries("u0uqeh6k", i64(apr1), "🥕", i64(-1), "", i64(0)),
			entries("a", str("-12.50"), "b", null),
			entries("u1", str(`{"M":{"ts":{"N":"1"}}}`)),
			entries("k", str("v")),
			entries("x", boolean(true), "y", boolean(false)),
			entries("b", bin([]byte{0, 0xff})),
			entries("s", f64(1.5)),
			str("m1"),
		}},
		{Meta: meta, Values: []flatten.Datum{null, null, null, null, null, null, null, str("m2")}},
		{Meta: meta, Values: []flatten.Datum{entries("only", null)}},
		{Meta: meta},
	}
	files := encodeAll(t, newEncoder(t, sink.ParquetOptions{}), s, rows)
	require.Len(t, files, 1)
	require.Equal(t, normalize(s, rows), readRows(t, files[0].Body, s))

	f := openParquet(t, files[0].Body)
	field, ok := f.Schema().Lookup("read_by", "key_value", "key")
	require.True(t, ok)
	require.True(t, field.Node.Required(), "a map key is required")
	value, ok := f.Schema().Lookup("read_by", "key_value", "value")
	require.True(t, ok)
	require.True(t, value.Node.Optional(), "a map value may be null")
	for _, fl := range f.Schema().Fields() {
		if fl.Name() != "read_by" {
			continue
		}
		require.True(t, fl.Optional())
		lt := fl.Type().LogicalType()
		require.NotNil(t, lt)
		_, isMap := lt.Value.(*format.MapType)
		require.True(t, isMap, "the group is annotated MAP")
		kv := fl.Fields()
		require.Len(t, kv, 1)
		require.Equal(t, "key_value", kv[0].Name())
		require.True(t, kv[0].Repeated())
	}
	// Decimal values keep no min/max, as decimal columns do.
	rg := &f.Metadata().RowGroups[0]
	for i := range rg.Columns {
		cc := &rg.Columns[i]
		if cc.MetaData.PathInSchema[0] == "tips" && cc.MetaData.PathInSchema[2] == "value" {
			require.Nil(t, cc.MetaData.Statistics.MinValue)
			require.Nil(t, cc.MetaData.Statistics.MaxValue)
		}
	}
}

// leafChunk returns the column chunk of the leaf at path.
func leafChunk(t testing.TB, rg *format.RowGroup, path ...string) *format.ColumnChunk {
	t.Helper()
	for i := range rg.Columns {
		if slices.Equal(rg.Columns[i].MetaData.PathInSchema, path) {
			return &rg.Columns[i]
		}
	}
	t.Fatalf("no leaf %v in row group (have %s)", path, chunkNames(rg))
	return nil
}

// TestParquetDictionaryByCardinality: a string leaf is dictionary-encoded
// when its values repeat in the file (at least half of the first 1024
// repeat an earlier one) and plain when they are distinct: scalars,
// array elements, map keys and map values each on their own. The choice
// follows the file's rows only: the same rows give the same bytes
// whatever the encoder wrote before.
func TestParquetDictionaryByCardinality(t *testing.T) {
	t.Parallel()
	s := schemas.NewSchema("events")
	for _, c := range []schemas.Column{
		{Name: "status", Path: "status", Type: schemas.String},
		{Name: "id", Path: "id", Type: schemas.String},
		{Name: "tags", Path: "tags", Type: schemas.ArrayOf(schemas.String)},
		{Name: "labels", Path: "labels", Type: schemas.MapOf(schemas.String)},
		{Name: "by_user", Path: "by_user", Type: schemas.MapOf(schemas.Bigint)},
		{Name: "doc", Path: "doc", Type: schemas.JSON},
	} {
		_, err := s.Add(c)
		require.NoError(t, err)
	}
	statuses := []string{"open", "closed", "pending"}
	rows := func(n int, statusOf func(i int) string) []flatten.Row {
		out := make([]flatten.Row, n)
		for i := range out {
			out[i] = flatten.Row{
				Meta: flatten.Meta{EventName: "INSERT", EventID: fmt.Sprintf("ev-%d", i), EventTime: apr1 + int64(i)*1000, Sequence: fmt.Sprintf("%021d", i)},
				Values: []flatten.Datum{
					str(statusOf(i)),
					str(fmt.Sprintf("id-%08d", i)),
					list(str(statuses[i%3]), str(statuses[(i+1)%3])),
					entries("team", str(fmt.Sprintf("team of %d", i)), "region", str(fmt.Sprintf("r%d", i))),
					entries(fmt.Sprintf("user-%d", i), i64(int64(i))),
					str(fmt.Sprintf(`{"n":%d}`, i)),
				},
			}
		}
		return out
	}
	repeated := rows(300, func(i int) string { return statuses[i%3] })
	enc := newEncoder(t, sink.ParquetOptions{Compression: sink.CompressionSnappy})
	body := encodeAll(t, enc, s, repeated)[0].Body
	rg := &openParquet(t, body).Metadata().RowGroups[0]
	isDict := func(cc *format.ColumnChunk) bool { return slices.Contains(cc.MetaData.Encoding, format.RLEDictionary) }
	for _, c := range []struct {
		path []string
		dict bool
	}{
		{[]string{"_event_name"}, true},
		{[]string{"_event_id"}, false},
		{[]string{"_sequence_number"}, false},
		{[]string{"status"}, true},
		{[]string{"id"}, false},
		{[]string{"tags", "list", "element"}, true},
		{[]string{"labels", "key_value", "key"}, true},
		{[]string{"labels", "key_value", "value"}, false},
		{[]string{"by_user", "key_value", "key"}, false},
		{[]string{"doc"}, false},
	} {
		cc := leafChunk(t, rg, c.path...)
		require.Equal(t, c.dict, isDict(cc), "%v: %v", c.path, cc.MetaData.Encoding)
		if !c.dict {
			require.Zero(t, cc.MetaData.DictionaryPageOffset, "%v", c.path)
		}
	}
	require.Equal(t, normalize(s, repeated), readRows(t, body, s))

	// Statuses all different: the same column is plain in that file.
	distinct := rows(300, func(i int) string { return fmt.Sprintf("status %d", i) })
	other := encodeAll(t, enc, s, distinct)[0].Body
	require.False(t, isDict(columnChunk(t, &openParquet(t, other).Metadata().RowGroups[0], "status")))
	require.Equal(t, normalize(s, distinct), readRows(t, other, s))

	// The same rows, after other files and by a fresh encoder: the same bytes.
	requireSameBytes(t, body, encodeAll(t, enc, s, repeated)[0].Body, "reused encoder")
	requireSameBytes(t, body, encodeAll(t, newEncoder(t, sink.ParquetOptions{Compression: sink.CompressionSnappy}), s, repeated)[0].Body, "fresh encoder")
}
