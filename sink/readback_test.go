package sink_test

import (
	"bytes"
	"fmt"
	"io"
	"math/big"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/schemas"
)

// openParquet opens a file body with parquet-go's reader.
func openParquet(t testing.TB, body []byte) *parquet.File {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(body), int64(len(body)))
	require.NoError(t, err)
	return f
}

// readRows reads every row of a file back into flatten rows typed by s,
// decoding each cell from the file's own physical and logical types (not
// from s), so a wrong type in the file shows up as a wrong value.
func readRows(t testing.TB, body []byte, s *schemas.Schema) []flatten.Row {
	t.Helper()
	f := openParquet(t, body)
	leaves := f.Schema().Columns()
	// Every column chunk names its column: readers match chunks by path.
	for _, rg := range f.Metadata().RowGroups {
		require.Len(t, rg.Columns, len(leaves))
		for i, cc := range rg.Columns {
			require.Equal(t, leaves[i], []string(cc.MetaData.PathInSchema))
		}
	}
	plan := make([]leafPlan, len(leaves))
	for i, path := range leaves {
		leaf, ok := f.Schema().Lookup(path...)
		require.True(t, ok)
		p := leafPlan{name: path[0], typ: leaf.Node.Type(), col: -1}
		switch {
		case len(path) == 3 && path[1] == "key_value":
			p.mapKey, p.mapValue = path[2] == "key", path[2] == "value"
			require.True(t, p.mapKey || p.mapValue, "%v", path)
		case len(path) == 3:
			p.list = true
			require.Equal(t, []string{p.name, "list", "element"}, path)
		}
		if !schemas.Reserved(p.name) {
			c, ok := s.Column(p.name)
			require.True(t, ok, "file column %s not in schema", p.name)
			p.col, _ = s.Lookup(c.Path)
		}
		plan[i] = p
	}
	var out []flatten.Row
	byCol := make([][]parquet.Value, len(leaves))
	for _, rg := range f.RowGroups() {
		rows := rg.Rows()
		buf := make([]parquet.Row, 64)
		for {
			n, err := rows.ReadRows(buf)
			for _, pr := range buf[:n] {
				out = append(out, decodeRow(t, plan, byCol, pr, len(s.Columns)))
			}
			if err == io.EOF {
				break
			}
			require.NoError(t, err)
		}
		require.NoError(t, rows.Close())
	}
	return out
}

// leafPlan says how to decode one leaf column of a file.
type leafPlan struct {
	name string
	typ  parquet.Type
	list bool
	// mapKey and mapValue mark the two leaves of a MAP column.
	mapKey, mapValue bool
	col              int // schema column index; -1 for metadata columns
}

func decodeRow(t testing.TB, plan []leafPlan, byCol [][]parquet.Value, pr parquet.Row, width int) flatten.Row {
	r := flatten.Row{Values: make([]flatten.Datum, width)}
	for i := range byCol {
		byCol[i] = byCol[i][:0]
	}
	for _, v := range pr {
		byCol[v.Column()] = append(byCol[v.Column()], v)
	}
	for ci, p := range plan {
		vals := byCol[ci]
		var d flatten.Datum
		switch {
		case p.mapKey || p.mapValue:
			// The key leaf comes first: it lays out the pairs, the value
			// leaf fills them in.
			d = r.Values[p.col]
			if vals[0].DefinitionLevel() < 2 {
				break // a null map: def 0 (an empty map, def 1, is never written)
			}
			d.Valid = true
			for k, v := range vals {
				if p.mapKey {
					d.List = append(d.List, flatten.Datum{Valid: true, Str: string(v.ByteArray())}, flatten.Datum{})
				} else {
					d.List[2*k+1] = decodeScalar(t, p.typ, v)
				}
			}
		case !p.list:
			if len(vals) != 1 {
				t.Fatalf("column %s: %d values in one row", p.name, len(vals))
			}
			d = decodeScalar(t, p.typ, vals[0])
		case vals[0].DefinitionLevel() == 0:
		case vals[0].DefinitionLevel() == 1:
			d = flatten.Datum{Valid: true, List: []flatten.Datum{}}
		default:
			d.Valid = true
			for _, v := range vals {
				d.List = append(d.List, decodeScalar(t, p.typ, v))
			}
		}
		switch p.name {
		case schemas.ColEventName:
			r.EventName = d.Str
		case schemas.ColEventID:
			r.EventID = d.Str
		case schemas.ColEventTime:
			r.EventTime = d.Int
		case schemas.ColSequence:
			r.Sequence = d.Str
		case schemas.ColTTLDelete:
			r.TTLDelete = d.Bool
		case schemas.ColExtra:
			if d.Valid {
				r.Extra = []byte(d.Str)
			}
		case schemas.ColOldImage:
			if d.Valid {
				r.OldImage = []byte(d.Str)
			}
		default:
			r.Values[p.col] = d
		}
	}
	return r
}

// decodeScalar decodes one value by the file's types: strings (String
// logical type), INT64 (plain or TIMESTAMP millis), DOUBLE, BOOLEAN,
// BYTE_ARRAY without logical type, FIXED_LEN_BYTE_ARRAY DECIMAL.
func decodeScalar(t testing.TB, typ parquet.Type, v parquet.Value) flatten.Datum {
	if v.IsNull() {
		return flatten.Datum{}
	}
	lt := typ.LogicalType()
	switch typ.Kind() {
	case parquet.ByteArray:
		if lt == nil {
			return flatten.Datum{Valid: true, Bytes: append([]byte{}, v.ByteArray()...)}
		}
		if _, isString := lt.Value.(*format.StringType); !isString {
			t.Fatalf("byte array with logical type %s", lt)
		}
		return flatten.Datum{Valid: true, Str: string(v.ByteArray())}
	case parquet.Int64:
		return flatten.Datum{Valid: true, Int: v.Int64()}
	case parquet.Double:
		return flatten.Datum{Valid: true, Float: v.Double()}
	case parquet.Boolean:
		return flatten.Datum{Valid: true, Bool: v.Boolean()}
	case parquet.FixedLenByteArray:
		dec, ok := lt.Value.(*format.DecimalType)
		if !ok {
			t.Fatalf("fixed_len_byte_array with logical type %v", lt)
		}
		return flatten.Datum{Valid: true, Str: decimalText(v.ByteArray(), int(dec.Scale))}
	}
	t.Fatalf("unexpected parquet type %s", typ)
	return flatten.Datum{}
}

// decimalText renders big-endian two's complement bytes at scale, the
// way flatten writes decimal cells.
func decimalText(b []byte, scale int) string {
	n := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	neg := n.Sign() < 0
	digits := new(big.Int).Abs(n).String()
	for len(digits) <= scale {
		digits = "0" + digits
	}
	text := digits
	if scale > 0 {
		text = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if neg {
		text = "-" + text
	}
	return text
}

// normalize pads rows to the schema width and clears null cells, so rows
// compare equal to what comes back from a file.
func normalize(s *schemas.Schema, rows []flatten.Row) []flatten.Row {
	out := make([]flatten.Row, len(rows))
	for i, r := range rows {
		v := make([]flatten.Datum, len(s.Columns))
		for j := range v {
			if j < len(r.Values) && r.Values[j].Valid {
				v[j] = r.Values[j]
				if v[j].List != nil && len(v[j].List) == 0 {
					v[j].List = []flatten.Datum{}
				}
			}
		}
		r.Values = v
		if len(r.Extra) == 0 {
			r.Extra = nil
		}
		out[i] = r
	}
	return out
}

// pageHeaders decodes the headers of every page of one column chunk.
func pageHeaders(t testing.TB, body []byte, cc *format.ColumnChunk) []format.PageHeader {
	t.Helper()
	md := cc.MetaData
	start := md.DataPageOffset
	if md.DictionaryPageOffset > 0 && md.DictionaryPageOffset < start {
		start = md.DictionaryPageOffset
	}
	end := start + md.TotalCompressedSize
	var out []format.PageHeader
	for off := start; off < end; {
		br := bytes.NewReader(body[off:end])
		var h format.PageHeader
		require.NoError(t, thrift.NewDecoder((&thrift.CompactProtocol{}).NewReader(br)).Decode(&h))
		hdrLen := int64(len(body[off:end]) - br.Len())
		out = append(out, h)
		off += hdrLen + int64(h.CompressedPageSize)
	}
	return out
}

// columnChunk finds the chunk of a top-level column in a row group.
func columnChunk(t testing.TB, rg *format.RowGroup, name string) *format.ColumnChunk {
	t.Helper()
	for i := range rg.Columns {
		if rg.Columns[i].MetaData.PathInSchema[0] == name {
			return &rg.Columns[i]
		}
	}
	t.Fatalf("no column %s in row group (have %s)", name, chunkNames(rg))
	return nil
}

func chunkNames(rg *format.RowGroup) string {
	var names []string
	for _, c := range rg.Columns {
		names = append(names, strings.Join(c.MetaData.PathInSchema, "."))
	}
	return fmt.Sprint(names)
}
