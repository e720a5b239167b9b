package sink_test

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
)

// bigStringFile encodes a few rows, one holding a 300 KB string in a
// string column and 300 KB in a binary column, and returns the file.
func bigStringFile(t *testing.T, big string) ([]byte, *schemas.Schema) {
	t.Helper()
	s := schemas.NewSchema("docs")
	for _, c := range []schemas.Column{
		{Name: "id", Path: "id", Type: schemas.String},
		{Name: "body", Path: "body", Type: schemas.String},
		{Name: "blob", Path: "blob", Type: schemas.Binary},
		{Name: "tags", Path: "tags", Type: schemas.ArrayOf(schemas.String)},
	} {
		_, err := s.Add(c)
		require.NoError(t, err)
	}
	rows := []flatten.Row{
		{Meta: flatten.Meta{EventName: "INSERT", EventTime: apr1}, Values: []flatten.Datum{str("a"), str("short"), bin([]byte("x")), list(str("t"))}},
		{Meta: flatten.Meta{EventName: "INSERT", EventTime: apr1, EventID: big[:300]}, Values: []flatten.Datum{str("b"), str(big), bin([]byte(big)), list(str(big))},
			Extra: []byte(`{"x":{"S":"` + big + `"}}`)},
		{Meta: flatten.Meta{EventName: "INSERT", EventTime: apr1}, Values: []flatten.Datum{str("c"), str("\xff" + big), bin([]byte("\xff" + big)), list(str("zz"))}},
	}
	enc, err := sink.NewEncoder(sink.ParquetOptions{})
	require.NoError(t, err)
	var out []byte
	require.NoError(t, enc.Encode(s, rows, func(f sink.EncodedFile) error {
		out = bytes.Clone(f.Body)
		return nil
	}))
	return out, s
}

// footerLen is the length of a Parquet file's footer.
func footerLen(file []byte) int {
	return int(binary.LittleEndian.Uint32(file[len(file)-8:]))
}

// TestStatisticsAreTruncated checks that a long string or binary value is
// not copied into the statistics: the footer of a file holding 300 KB
// values stays small, the bounds it keeps still bound every value, and
// the values read back whole.
func TestStatisticsAreTruncated(t *testing.T) {
	big := strings.Repeat("가나다라", 25_000) // 300,000 bytes
	file, s := bigStringFile(t, big)
	n := footerLen(file)
	t.Logf("file %d bytes, footer %d bytes, for 300 KB values", len(file), n)
	require.Less(t, n, 16<<10, "the footer holds no 300 KB copy")
	require.Less(t, len(file), 2*300_000, "nor do the pages")

	f, err := parquet.OpenFile(bytes.NewReader(file), int64(len(file)))
	require.NoError(t, err)
	for _, rg := range f.Metadata().RowGroups {
		for _, c := range rg.Columns {
			st := c.MetaData.Statistics
			require.LessOrEqual(t, len(st.MinValue), 64, c.MetaData.PathInSchema)
			require.LessOrEqual(t, len(st.MaxValue), 64, c.MetaData.PathInSchema)
			require.Empty(t, st.Min)
			require.Empty(t, st.Max)
		}
	}
	// Every page's bounds, in the column index, and every chunk's still
	// bound its values.
	for ci, col := range f.Schema().Columns() {
		leaf, _ := f.Schema().Lookup(col...)
		if leaf.Node.Type().Kind() != parquet.ByteArray {
			continue
		}
		for _, rg := range f.RowGroups() {
			cc := rg.ColumnChunks()[leaf.ColumnIndex]
			meta := f.Metadata().RowGroups[0].Columns[leaf.ColumnIndex].MetaData
			pages := cc.Pages()
			for {
				p, err := pages.ReadPage()
				if err != nil {
					break
				}
				vals := make([]parquet.Value, p.NumValues())
				n, _ := p.Values().ReadValues(vals)
				for _, v := range vals[:n] {
					if v.IsNull() {
						continue
					}
					b := v.ByteArray()
					if len(meta.Statistics.MinValue) > 0 {
						require.LessOrEqual(t, string(meta.Statistics.MinValue), string(b), "column %d", ci)
					}
					if len(meta.Statistics.MaxValue) > 0 {
						require.GreaterOrEqual(t, string(meta.Statistics.MaxValue), string(b), "column %d", ci)
					}
				}
			}
			_ = pages.Close()
			idx, err := cc.ColumnIndex()
			require.NoError(t, err)
			for p := 0; p < idx.NumPages(); p++ {
				require.LessOrEqual(t, len(idx.MinValue(p).ByteArray()), 64)
				require.LessOrEqual(t, len(idx.MaxValue(p).ByteArray()), 64)
			}
		}
	}
	// The data is whole.
	rows := readRows(t, file, s)
	require.Equal(t, big, rows[1].Values[1].Str)
	require.Equal(t, []byte(big), rows[1].Values[2].Bytes)
	require.Equal(t, big, rows[1].Values[3].List[0].Str)
	require.Equal(t, "\xff"+big, rows[2].Values[1].Str)

	// A value whose prefix is all 0xff bytes has no upper bound shorter
	// than itself: the chunk keeps no max rather than a wrong one.
	ff := strings.Repeat("\xff", 1000)
	file, _ = bigStringFile(t, ff+big)
	f, err = parquet.OpenFile(bytes.NewReader(file), int64(len(file)))
	require.NoError(t, err)
	for _, c := range f.Metadata().RowGroups[0].Columns {
		if strings.Join(c.MetaData.PathInSchema, ".") == "body" {
			require.LessOrEqual(t, len(c.MetaData.Statistics.MinValue), 64)
			require.Empty(t, c.MetaData.Statistics.MaxValue)
		}
	}
}
