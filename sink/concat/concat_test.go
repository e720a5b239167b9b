package concat_test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/internal/laketest"
	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/concat"
)

// memSidecar is a Sidecar in memory.
type memSidecar struct{ bytes.Buffer }

func (m *memSidecar) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(m.Len()) {
		return 0, io.EOF
	}
	n := copy(p, m.Bytes()[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// sparseSchema is RichSchema with a map column, a list of maps' cousin (a
// list of strings) and columns few rows use.
func sparseSchema() *schemas.Schema {
	s := laketest.RichSchema("things")
	for _, c := range []schemas.Column{
		{Name: "read_by", Path: "readBy", Type: schemas.MapOf(schemas.Bigint), Source: "M"},
		{Name: "notes", Path: "notes", Type: schemas.MapOf(schemas.String), Source: "M"},
		{Name: "rare", Path: "rare", Type: schemas.Decimal(20, 4), Source: "N"},
		{Name: "zz_last", Path: "zzLast", Type: schemas.ArrayOf(schemas.Double), Source: "L"},
	} {
		if _, err := s.Add(c); err != nil {
			panic(err)
		}
	}
	return s
}

// sparseRows are RichRows with the extra columns of sparseSchema filled
// in some stretches only, so that batches of them use different columns.
func sparseRows(n int, seed uint64) []flatten.Row {
	rows := laketest.RichRows(n, seed, 1775001600000, 1)
	for i := range rows {
		v := slices.Grow(rows[i].Values, 16)[:16]
		switch (i / 40) % 4 {
		case 0:
			v[12] = flatten.MapOf(flatten.Datum{Valid: true, Str: "u🙂"}, flatten.Datum{Valid: true, Int: int64(i)})
		case 1:
			v[13] = flatten.MapOf(flatten.Datum{Valid: true, Str: "k"}, flatten.Datum{})
			v[14] = flatten.Datum{Valid: true, Str: fmt.Sprintf("-%d.%04d", i, i%7)}
		case 2:
			v[15] = flatten.Datum{Valid: true, List: []flatten.Datum{{Valid: true, Float: float64(i) / 3}, {}}}
		}
		if i%9 == 3 {
			v = v[:3]
		}
		rows[i].Values = v
	}
	return rows
}

// encode writes rows as pieces of at most per rows each, with small pages
// and row groups so that pieces hold several of each.
func encode(t testing.TB, s *schemas.Schema, rows []flatten.Row, per int, opts sink.ParquetOptions) [][]byte {
	t.Helper()
	enc, err := sink.NewEncoder(opts)
	require.NoError(t, err)
	var out [][]byte
	for len(rows) > 0 {
		k := min(per, len(rows))
		require.NoError(t, enc.Encode(s, rows[:k], func(f sink.EncodedFile) error {
			out = append(out, bytes.Clone(f.Body))
			return nil
		}))
		rows = rows[k:]
	}
	return out
}

// join joins the pieces into one file.
func join(t testing.TB, pieces [][]byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w := concat.NewWriter(&out, &memSidecar{})
	for _, b := range pieces {
		p, err := concat.Parse(b)
		require.NoError(t, err)
		require.NoError(t, w.Check(p))
		require.NoError(t, w.Append(p))
	}
	size, err := w.Close()
	require.NoError(t, err)
	require.Equal(t, int64(out.Len()), size)
	return out.Bytes()
}

// rowsOf reads the rows of files as laketest.RowStrings renders them.
func rowsOf(t testing.TB, files ...[]byte) []string {
	var out []string
	for _, f := range files {
		out = append(out, laketest.RowStrings(t, f)...)
	}
	return out
}

var small = sink.ParquetOptions{PageBytes: 128, RowGroupBytes: 3 << 10}

// TestJoinReadsAsThePieces joins pieces that use different columns (maps,
// lists, decimals, binary, columns only some pieces have): parquet-go
// reads the rows of the pieces, in order, with nulls where a piece lacked
// a column, and its page index (column and offset indexes) is the
// pieces', pages moved.
func TestJoinReadsAsThePieces(t *testing.T) {
	s := sparseSchema()
	rows := sparseRows(1200, 3)
	for _, opts := range []sink.ParquetOptions{small, {}, {Compression: sink.CompressionSnappy, PageBytes: 1 << 10}} {
		pieces := encode(t, s, rows, 130, opts)
		require.Greater(t, len(pieces), 8)
		joined := join(t, pieces)
		require.Equal(t, rowsOf(t, pieces...), rowsOf(t, joined))

		f, err := parquet.OpenFile(bytes.NewReader(joined), int64(len(joined)))
		require.NoError(t, err)
		require.Equal(t, int64(len(rows)), f.NumRows())
		md := f.Metadata()
		leaves := f.Schema().Columns()
		var fields []string
		for _, fl := range f.Schema().Fields() {
			fields = append(fields, fl.Name())
		}
		require.True(t, slices.IsSorted(fields), "fields sorted by name: %v", fields)
		require.Len(t, fields, len(s.Columns)+len(schemas.MetadataColumns()), "every column some piece has")

		// Each piece's row groups, in order, and their column chunks
		// unchanged but for where they are.
		var want []format.RowGroup
		var wantCI []map[string]format.ColumnIndex // by row group, by column path
		for _, b := range pieces {
			pf, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
			require.NoError(t, err)
			cis, _, err := pf.ReadPageIndex()
			require.NoError(t, err)
			for g, rg := range pf.Metadata().RowGroups {
				byPath := map[string]format.ColumnIndex{}
				for j, c := range rg.Columns {
					byPath[fmt.Sprint(c.MetaData.PathInSchema)] = cis[g*len(rg.Columns)+j]
				}
				wantCI = append(wantCI, byPath)
			}
			want = append(want, pf.Metadata().RowGroups...)
		}
		require.Len(t, md.RowGroups, len(want))
		if opts == small {
			require.Greater(t, len(md.RowGroups), len(pieces), "several row groups in some pieces")
		}
		var spans [][2]int64
		for g, rg := range md.RowGroups {
			require.Equal(t, int16(g), rg.Ordinal)
			require.Equal(t, want[g].NumRows, rg.NumRows)
			require.Len(t, rg.Columns, len(leaves))
			for j, c := range rg.Columns {
				require.Equal(t, leaves[j], []string(c.MetaData.PathInSchema))
				start := c.MetaData.DataPageOffset
				if c.MetaData.DictionaryPageOffset > 0 {
					start = c.MetaData.DictionaryPageOffset
				}
				spans = append(spans, [2]int64{start, start + c.MetaData.TotalCompressedSize})
				k := slices.IndexFunc(want[g].Columns, func(w format.ColumnChunk) bool {
					return slices.Equal(w.MetaData.PathInSchema, c.MetaData.PathInSchema)
				})
				if k < 0 {
					require.Equal(t, rg.NumRows, c.MetaData.Statistics.NullCount, "a null chunk for a column the piece lacks")
					continue
				}
				w := want[g].Columns[k].MetaData
				require.Equal(t, w.Statistics, c.MetaData.Statistics, "statistics copied")
				require.Equal(t, w.NumValues, c.MetaData.NumValues)
				require.Equal(t, w.Codec, c.MetaData.Codec)
			}
		}
		slices.SortFunc(spans, func(a, b [2]int64) int { return int(a[0] - b[0]) })
		for i := 1; i < len(spans); i++ {
			require.LessOrEqual(t, spans[i-1][1], spans[i][0], "column chunks do not overlap")
		}

		// The page index: every page location names a page header whose
		// size it gives, and every column index is the piece's.
		cis, ois, err := f.ReadPageIndex()
		require.NoError(t, err)
		require.Len(t, ois, len(md.RowGroups)*len(leaves))
		pages := 0
		for _, oi := range ois {
			for _, loc := range oi.PageLocations {
				var h format.PageHeader
				r := bytes.NewReader(joined[loc.Offset:])
				var proto thrift.CompactProtocol
				require.NoError(t, thrift.NewDecoder(proto.NewReader(r)).Decode(&h))
				require.Equal(t, int64(loc.CompressedPageSize), int64(len(joined[loc.Offset:])-r.Len())+int64(h.CompressedPageSize))
				pages++
			}
		}
		if opts.PageBytes == small.PageBytes {
			require.Greater(t, pages, len(ois), "several pages in some chunks")
		}
		require.Len(t, cis, len(ois))
		for g, rg := range md.RowGroups {
			for j, c := range rg.Columns {
				ci := cis[g*len(leaves)+j]
				w, ok := wantCI[g][fmt.Sprint(c.MetaData.PathInSchema)]
				if !ok {
					require.Equal(t, []bool{true}, []bool(ci.NullPages), "a null chunk's one page is null")
					continue
				}
				require.Equal(t, w, ci, "the column index of row group %d, %v: the piece's", g, c.MetaData.PathInSchema)
			}
		}

		// Seeking to any row reads that row: the offset index finds its
		// page in its row group.
		all := rowsOf(t, joined)
		rng := rand.New(rand.NewPCG(1, 2))
		reader := parquet.NewReader(f)
		for range 30 {
			n := rng.IntN(len(rows))
			require.NoError(t, reader.SeekToRow(int64(n)))
			buf := make([]parquet.Row, 1)
			k, err := reader.ReadRows(buf)
			if err != io.EOF {
				require.NoError(t, err)
			}
			require.Equal(t, 1, k)
			one := rowString(t, f, buf[0])
			require.Equal(t, all[n], one, "row %d", n)
		}
	}
}

// rowString renders one row of f as laketest.RowStrings does, by writing
// it alone into a file of f's schema.
func rowString(t *testing.T, f *parquet.File, row parquet.Row) string {
	var b bytes.Buffer
	w := parquet.NewGenericWriter[parquet.Row](&b, f.Schema())
	_, err := w.WriteRows([]parquet.Row{row})
	require.NoError(t, err)
	require.NoError(t, w.Close())
	got := laketest.RowStrings(t, b.Bytes())
	require.Len(t, got, 1)
	return got[0]
}

// TestJoinOnePieceIsThePiece: a file of one piece is the piece's bytes.
func TestJoinOnePieceIsThePiece(t *testing.T) {
	pieces := encode(t, sparseSchema(), sparseRows(100, 5), 100, small)
	require.Len(t, pieces, 1)
	require.Equal(t, pieces[0], join(t, pieces))
}

// TestJoinIsDeterministic: the same pieces give the same bytes.
func TestJoinIsDeterministic(t *testing.T) {
	pieces := encode(t, sparseSchema(), sparseRows(300, 8), 50, small)
	require.Equal(t, join(t, pieces), join(t, pieces))
}

// TestJoinRefusesOtherShapes: a field of one name with another type, or
// of another table, does not join; a layout other than parquet-go's is
// not parsed.
func TestJoinRefusesOtherShapes(t *testing.T) {
	a := schemas.NewSchema("t")
	_, err := a.Add(schemas.Column{Name: "x", Path: "x", Type: schemas.Bigint})
	require.NoError(t, err)
	b := schemas.NewSchema("t")
	_, err = b.Add(schemas.Column{Name: "x", Path: "x", Type: schemas.String})
	require.NoError(t, err)
	c := schemas.NewSchema("u")
	_, err = c.Add(schemas.Column{Name: "x", Path: "x", Type: schemas.Bigint})
	require.NoError(t, err)
	row := func(d flatten.Datum) []flatten.Row {
		return []flatten.Row{{Meta: flatten.Meta{EventName: "INSERT", EventTime: 1775001600000}, Values: []flatten.Datum{d}}}
	}
	pa := encode(t, a, row(flatten.Datum{Valid: true, Int: 1}), 1, sink.ParquetOptions{})[0]
	pb := encode(t, b, row(flatten.Datum{Valid: true, Str: "1"}), 1, sink.ParquetOptions{})[0]
	pc := encode(t, c, row(flatten.Datum{Valid: true, Int: 1}), 1, sink.ParquetOptions{})[0]
	w := concat.NewWriter(io.Discard, &memSidecar{})
	first, err := concat.Parse(pa)
	require.NoError(t, err)
	require.NoError(t, w.Append(first))
	for _, other := range [][]byte{pb, pc} {
		p, err := concat.Parse(other)
		require.NoError(t, err)
		require.ErrorIs(t, w.Check(p), concat.ErrMismatch)
		require.ErrorIs(t, w.Append(p), concat.ErrMismatch)
	}

	_, err = concat.Parse([]byte("PAR1 not a parquet file PAR1"))
	require.ErrorIs(t, err, concat.ErrLayout)
}
