package rewrite_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/internal/laketest"
	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/rewrite"
)

const start = 1775001600000 // 2026-04-01T00:00:00Z

// encode writes rows as the lake's writer does, one file.
func encode(t *testing.T, s *schemas.Schema, rows []flatten.Row) []byte {
	t.Helper()
	enc, err := sink.NewEncoder(sink.ParquetOptions{})
	require.NoError(t, err)
	var out []byte
	require.NoError(t, enc.Encode(s, rows, func(f sink.EncodedFile) error {
		require.Nil(t, out, "one file")
		out = bytes.Clone(f.Body)
		return nil
	}))
	return out
}

func open(t *testing.T, name string, body []byte) *rewrite.File {
	t.Helper()
	f, err := rewrite.Open(name, body)
	require.NoError(t, err)
	return f
}

func keep() []string {
	var out []string
	for _, c := range schemas.MetadataColumns() {
		out = append(out, c.Name)
	}
	return out
}

// fieldNames lists a file's top-level fields in file order.
func fieldNames(t *testing.T, body []byte) []string {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(body), int64(len(body)))
	require.NoError(t, err)
	var out []string
	for _, fl := range f.Schema().Fields() {
		out = append(out, fl.Name())
	}
	return out
}

// TestMergeKeepsRows merges files of one table whose schemas hold
// different columns (every type, nulls, empty and null-holding arrays):
// the merged file holds the same rows, in order, and the union of the
// columns they use, sorted by name like every lake file.
func TestMergeKeepsRows(t *testing.T) {
	s := laketest.RichSchema("t")
	rows := laketest.RichRows(90, 1, start, 1)
	parts := [][]flatten.Row{rows[:7], rows[7:8], rows[8:50], rows[50:]}
	// A file whose rows use only the first columns.
	short := make([]flatten.Row, 5)
	for i := range short {
		short[i] = rows[i]
		short[i].Values = rows[i].Values[:2]
	}
	parts = append(parts, short)

	var files []*rewrite.File
	var want []string
	for i, p := range parts {
		body := encode(t, s, p)
		want = append(want, laketest.RowStrings(t, body)...)
		files = append(files, open(t, string(rune('a'+i)), body))
	}
	out, n, err := rewrite.Merge(files, rewrite.Options{Keep: keep()})
	require.NoError(t, err)
	require.EqualValues(t, len(want), n)
	require.Equal(t, want, laketest.RowStrings(t, out), "the same rows, in the same order")

	names := fieldNames(t, out)
	require.True(t, slices.IsSorted(names), names)
	whole := encode(t, s, slices.Concat(parts...))
	require.Equal(t, fieldNames(t, whole), names, "the columns the rows use, as one file of them all would hold")

	// The same inputs give the same bytes.
	again, _, err := rewrite.Merge(files, rewrite.Options{Keep: keep()})
	require.NoError(t, err)
	require.Equal(t, out, again)

	// Merging the merged file changes nothing.
	twice, _, err := rewrite.Merge([]*rewrite.File{open(t, "out", out)}, rewrite.Options{Keep: keep()})
	require.NoError(t, err)
	require.Equal(t, out, twice)
}

// TestMergeSelectsAndSets copies chosen rows and gives them dt: only the
// columns those rows use are written.
func TestMergeSelectsAndSets(t *testing.T) {
	s := laketest.RichSchema("t")
	rows := laketest.RichRows(30, 2, start, 1)
	body := encode(t, s, rows)
	all := laketest.RowStrings(t, body)

	f := open(t, "a", body)
	f.Rows = []int64{0, 4, 9}
	f.Set = map[string]string{"dt": "2026-04-01"}
	out, n, err := rewrite.Merge([]*rewrite.File{f}, rewrite.Options{Keep: keep()})
	require.NoError(t, err)
	require.EqualValues(t, 3, n)
	got := laketest.RowStrings(t, out)
	for i, idx := range f.Rows {
		const dt = ` dt=0/1/"2026-04-01"`
		require.Contains(t, got[i], dt)
		require.Equal(t, all[idx], strings.Replace(got[i], dt, "", 1), "row %d", idx)
	}

	// Rows 4 and 9 are REMOVEs (no data cells) and row 0 uses tags only
	// among the arrays: no other array column is written.
	names := fieldNames(t, out)
	require.Contains(t, names, "tags")
	require.NotContains(t, names, "counts")
	require.NotContains(t, names, "prices")
	require.Contains(t, names, "_extra", "metadata columns are kept")

	f.Rows = []int64{}
	out, n, err = rewrite.Merge([]*rewrite.File{f}, rewrite.Options{Keep: keep()})
	require.NoError(t, err)
	require.Zero(t, n)
	require.NotContains(t, fieldNames(t, out), "dt")
}

// TestMergeRefusesConflicts: a column of one name with two shapes (as
// another writer's files could hold) is an error naming both files.
func TestMergeRefusesConflicts(t *testing.T) {
	a := schemas.NewSchema("t")
	_, err := a.Add(schemas.Column{Name: "price", Path: "price", Type: schemas.Bigint})
	require.NoError(t, err)
	b := schemas.NewSchema("t")
	_, err = b.Add(schemas.Column{Name: "price", Path: "price", Type: schemas.Decimal(10, 2)})
	require.NoError(t, err)
	row := func(d flatten.Datum) []flatten.Row {
		return []flatten.Row{{Meta: flatten.Meta{EventName: "INSERT", EventTime: start}, Values: []flatten.Datum{d}}}
	}
	fa := open(t, "a.parquet", encode(t, a, row(flatten.Datum{Valid: true, Int: 3})))
	fb := open(t, "b.parquet", encode(t, b, row(flatten.Datum{Valid: true, Str: "3.00"})))
	_, _, err = rewrite.Merge([]*rewrite.File{fa, fb}, rewrite.Options{})
	require.ErrorIs(t, err, rewrite.ErrConflict)
	require.Contains(t, err.Error(), "a.parquet")
	require.Contains(t, err.Error(), "b.parquet")

	u := rewrite.NewFields()
	require.NoError(t, u.Add(fa))
	require.ErrorIs(t, u.Add(fb), rewrite.ErrConflict)
	require.NoError(t, u.Add(fa))

	_, err = rewrite.Open("junk", []byte("not parquet"))
	require.ErrorIs(t, err, rewrite.ErrBadFile)
}

// TestMergeCodecAndEncodings: the output takes the codec asked for, and
// the lake's encodings (dictionary strings), not the input's.
func TestMergeCodecAndEncodings(t *testing.T) {
	s := laketest.RichSchema("t")
	enc, err := sink.NewEncoder(sink.ParquetOptions{Compression: sink.CompressionSnappy})
	require.NoError(t, err)
	var body []byte
	require.NoError(t, enc.Encode(s, laketest.RichRows(20, 3, start, 1), func(f sink.EncodedFile) error {
		body = bytes.Clone(f.Body)
		return nil
	}))
	out, _, err := rewrite.Merge([]*rewrite.File{open(t, "a", body)}, rewrite.Options{Keep: keep()})
	require.NoError(t, err)
	pf, err := parquet.OpenFile(bytes.NewReader(out), int64(len(out)))
	require.NoError(t, err)
	for _, c := range pf.Metadata().RowGroups[0].Columns {
		require.Equal(t, "ZSTD", c.MetaData.Codec.String(), c.MetaData.PathInSchema)
		if strings.Join(c.MetaData.PathInSchema, ".") == "body" {
			var encs []string
			for _, e := range c.MetaData.Encoding {
				encs = append(encs, e.String())
			}
			require.Contains(t, encs, "RLE_DICTIONARY")
		}
	}
	require.Equal(t, "ddblake", pf.Metadata().CreatedBy)
}

// mapRow has the shapes the lake's writer does not write today: a MAP
// column and a nested group.
type mapRow struct {
	EventName string           `parquet:"_event_name"`
	Counts    map[string]int64 `parquet:"counts,optional"`
	Profile   *struct {
		Name  string  `parquet:"name"`
		Score *string `parquet:"score,optional"`
	} `parquet:"profile,optional"`
	Body *string `parquet:"body,optional"`
}

// TestMergeMapsAndGroups: columns of any Parquet shape are copied as the
// files declare them, merged by name.
func TestMergeMapsAndGroups(t *testing.T) {
	s := func(v string) *string { return &v }
	a := []mapRow{
		{EventName: "INSERT", Counts: map[string]int64{"🥕": 2, "👍": 1}},
		{EventName: "MODIFY", Counts: map[string]int64{}, Profile: &struct {
			Name  string  `parquet:"name"`
			Score *string `parquet:"score,optional"`
		}{Name: "kim", Score: s("9.5")}},
	}
	type onlyBody struct {
		EventName string  `parquet:"_event_name"`
		Body      *string `parquet:"body,optional"`
	}
	b := []onlyBody{{EventName: "REMOVE"}, {EventName: "INSERT", Body: s("hi")}}
	var bufA, bufB bytes.Buffer
	require.NoError(t, parquet.Write(&bufA, a))
	require.NoError(t, parquet.Write(&bufB, b))
	want := append(laketest.RowStrings(t, bufA.Bytes()), laketest.RowStrings(t, bufB.Bytes())...)

	out, n, err := rewrite.Merge([]*rewrite.File{open(t, "a", bufA.Bytes()), open(t, "b", bufB.Bytes())}, rewrite.Options{Keep: []string{"_event_name"}})
	require.NoError(t, err)
	require.EqualValues(t, 4, n)
	require.Equal(t, want, laketest.RowStrings(t, out))

	got, err := parquet.Read[mapRow](bytes.NewReader(out), int64(len(out)))
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"🥕": 2, "👍": 1}, got[0].Counts)
	require.Equal(t, "kim", got[1].Profile.Name)
	require.Equal(t, "9.5", *got[1].Profile.Score)
	require.Nil(t, got[2].Counts)
	require.Equal(t, "hi", *got[3].Body)
	require.Equal(t, []string{"_event_name", "body", "counts", "profile"}, fieldNames(t, out))
}

// TestMergeBoundsStatistics: a long value is not copied into the merged
// file's statistics, as the lake's writer does not copy it.
func TestMergeBoundsStatistics(t *testing.T) {
	s := laketest.RichSchema("t")
	rows := laketest.RichRows(10, 4, start, 1)
	rows[1].Values[2] = flatten.Datum{Valid: true, Str: strings.Repeat("긴", 100_000)}
	body := encode(t, s, rows)
	out, _, err := rewrite.Merge([]*rewrite.File{open(t, "a", body)}, rewrite.Options{Keep: keep()})
	require.NoError(t, err)
	require.Equal(t, laketest.RowStrings(t, body), laketest.RowStrings(t, out))
	require.Less(t, len(out), len(body)+1<<10, "no copies of the long value")
	pf, err := parquet.OpenFile(bytes.NewReader(out), int64(len(out)))
	require.NoError(t, err)
	for _, rg := range pf.Metadata().RowGroups {
		for _, c := range rg.Columns {
			st := c.MetaData.Statistics
			require.LessOrEqual(t, len(st.MinValue), sink.MaxStatBytes, c.MetaData.PathInSchema)
			require.LessOrEqual(t, len(st.MaxValue), sink.MaxStatBytes, c.MetaData.PathInSchema)
		}
	}
}
