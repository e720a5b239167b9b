package concat

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// magic starts and ends every Parquet file.
const magic = "PAR1"

// Piece is one Parquet file ready to be joined: its footer read and its
// layout checked. It holds the file's bytes, which must not change until
// the Writer it is appended to has returned from Append.
type Piece struct {
	body []byte
	meta format.FileMetaData
	// The regions of the file: pages [4, dataEnd), column indexes
	// [dataEnd, oiStart), offset indexes [oiStart, footerStart), footer
	// [footerStart, len-8).
	dataEnd, oiStart, footerStart int64
	fields                        []*field
	rows                          int64
	// codec compresses every column chunk of the piece.
	codec format.CompressionCodec
}

// field is one top-level field of a file's schema, with its subtree.
type field struct {
	name string
	// key is the subtree's schema elements as the footer encodes them:
	// two fields of one name and one key have the same shape.
	key      string
	elems    []format.SchemaElement
	leaves   []leaf
	optional bool
	// orders are the column orders of its leaves, or nil when the file
	// declares none.
	orders []format.ColumnOrder
}

// leaf is one column (a leaf of the schema) of a field.
type leaf struct {
	path   []string
	typ    format.Type
	maxDef int
	maxRep int
}

// Parse reads the footer of the Parquet file in body and checks that a
// Writer can join it (ErrLayout otherwise). body is kept, not copied.
func Parse(body []byte) (*Piece, error) {
	n := int64(len(body))
	if n < 12 || string(body[:4]) != magic || string(body[n-4:]) != magic {
		return nil, fmt.Errorf("%w: not a Parquet file", ErrLayout)
	}
	flen := int64(binary.LittleEndian.Uint32(body[n-8 : n-4]))
	footerStart := n - 8 - flen
	if flen <= 0 || footerStart < 4 {
		return nil, fmt.Errorf("%w: footer length %d", ErrLayout, flen)
	}
	p := &Piece{body: body, footerStart: footerStart}
	var proto thrift.CompactProtocol
	if err := thrift.Unmarshal(&proto, body[footerStart:n-8], &p.meta); err != nil {
		return nil, fmt.Errorf("%w: footer: %v", ErrLayout, err)
	}
	md := &p.meta
	if md.EncryptionAlgorithm.Value != nil || len(md.FooterSigningKeyMetadata) > 0 {
		return nil, fmt.Errorf("%w: encrypted file", ErrLayout)
	}
	fields, err := splitSchema(&proto, md.Schema)
	if err != nil {
		return nil, err
	}
	p.fields = fields
	var paths [][]string
	for _, f := range fields {
		for _, l := range f.leaves {
			paths = append(paths, l.path)
		}
	}
	switch len(md.ColumnOrders) {
	case 0:
	case len(paths):
		k := 0
		for _, f := range fields {
			f.orders = md.ColumnOrders[k : k+len(f.leaves) : k+len(f.leaves)]
			k += len(f.leaves)
		}
	default:
		return nil, fmt.Errorf("%w: %d column orders for %d columns", ErrLayout, len(md.ColumnOrders), len(paths))
	}

	dataEnd := int64(4)
	var rows, ciSum, oiSum int64
	for i := range md.RowGroups {
		rg := &md.RowGroups[i]
		if len(rg.Columns) != len(paths) {
			return nil, fmt.Errorf("%w: row group %d has %d column chunks for %d columns", ErrLayout, i, len(rg.Columns), len(paths))
		}
		if rg.NumRows < 0 || len(rg.SortingColumns) > 0 {
			return nil, fmt.Errorf("%w: row group %d: %d rows, %d sorting columns", ErrLayout, i, rg.NumRows, len(rg.SortingColumns))
		}
		rows += rg.NumRows
		for j := range rg.Columns {
			c := &rg.Columns[j]
			m := &c.MetaData
			if c.FilePath != "" || c.CryptoMetadata.Value != nil || len(c.EncryptedColumnMetadata) > 0 ||
				m.BloomFilterOffset != 0 || m.BloomFilterLength != 0 || m.IndexPageOffset != 0 {
				return nil, fmt.Errorf("%w: row group %d, column %d: data elsewhere, encryption, a bloom filter or an index page", ErrLayout, i, j)
			}
			if i == 0 && j == 0 {
				p.codec = m.Codec
			}
			if m.Codec != p.codec {
				return nil, fmt.Errorf("%w: row group %d, column %d compressed with %s, not %s", ErrLayout, i, j, m.Codec, p.codec)
			}
			if !slices.Equal(m.PathInSchema, paths[j]) {
				return nil, fmt.Errorf("%w: row group %d, column %d is %v, not %v", ErrLayout, i, j, m.PathInSchema, paths[j])
			}
			start := m.DataPageOffset
			if m.DictionaryPageOffset > 0 {
				start = min(start, m.DictionaryPageOffset)
			}
			end := start + m.TotalCompressedSize
			if start < 4 || m.TotalCompressedSize < 0 || end > footerStart {
				return nil, fmt.Errorf("%w: row group %d, column %d: pages at [%d, %d)", ErrLayout, i, j, start, end)
			}
			dataEnd = max(dataEnd, end)
			if c.ColumnIndexLength < 0 || c.OffsetIndexLength < 0 {
				return nil, fmt.Errorf("%w: row group %d, column %d: negative index length", ErrLayout, i, j)
			}
			if c.ColumnIndexOffset > 0 {
				ciSum += int64(c.ColumnIndexLength)
			}
			if c.OffsetIndexOffset > 0 {
				oiSum += int64(c.OffsetIndexLength)
			}
		}
	}
	if rows != md.NumRows {
		return nil, fmt.Errorf("%w: %d rows in the row groups, %d in the footer", ErrLayout, rows, md.NumRows)
	}
	// The indexes follow the pages, all column indexes then all offset
	// indexes, with nothing between them and the footer.
	p.dataEnd, p.oiStart, p.rows = dataEnd, dataEnd+ciSum, rows
	if p.oiStart+oiSum != footerStart {
		return nil, fmt.Errorf("%w: %d bytes between the pages and the footer, %d of indexes", ErrLayout, footerStart-dataEnd, ciSum+oiSum)
	}
	for i := range md.RowGroups {
		for j := range md.RowGroups[i].Columns {
			c := &md.RowGroups[i].Columns[j]
			if c.ColumnIndexOffset > 0 && (c.ColumnIndexOffset < dataEnd || c.ColumnIndexOffset+int64(c.ColumnIndexLength) > p.oiStart) {
				return nil, fmt.Errorf("%w: row group %d, column %d: column index outside the column indexes", ErrLayout, i, j)
			}
			if c.OffsetIndexOffset > 0 && (c.OffsetIndexOffset < p.oiStart || c.OffsetIndexOffset+int64(c.OffsetIndexLength) > footerStart) {
				return nil, fmt.Errorf("%w: row group %d, column %d: offset index outside the offset indexes", ErrLayout, i, j)
			}
		}
	}
	return p, nil
}

// Rows is the number of rows in the piece.
func (p *Piece) Rows() int64 { return p.rows }

// Size is the length of the piece's file.
func (p *Piece) Size() int64 { return int64(len(p.body)) }

// RowGroups is the number of row groups in the piece.
func (p *Piece) RowGroups() int { return len(p.meta.RowGroups) }

// Columns is the number of columns (leaves of the schema) of the piece.
func (p *Piece) Columns() int {
	n := 0
	for _, f := range p.fields {
		n += len(f.leaves)
	}
	return n
}

// Body is the piece's file.
func (p *Piece) Body() []byte { return p.body }

// splitSchema cuts a file's schema elements into its top-level fields.
func splitSchema(proto *thrift.CompactProtocol, elems []format.SchemaElement) ([]*field, error) {
	if len(elems) == 0 || !elems[0].NumChildren.Valid {
		return nil, fmt.Errorf("%w: schema without a root", ErrLayout)
	}
	n := int(elems[0].NumChildren.V)
	var fields []*field
	i := 1
	for range n {
		if i >= len(elems) {
			return nil, fmt.Errorf("%w: schema ends early", ErrLayout)
		}
		f := &field{name: elems[i].Name}
		end, err := walk(elems, i, nil, 0, 0, f)
		if err != nil {
			return nil, err
		}
		f.elems = elems[i:end:end]
		f.optional = elems[i].RepetitionType.Valid && elems[i].RepetitionType.V == format.Optional
		var key []byte
		for k := range f.elems {
			b, err := thrift.Marshal(proto, &f.elems[k])
			if err != nil {
				return nil, fmt.Errorf("%w: schema: %v", ErrLayout, err)
			}
			key = append(key, b...)
		}
		f.key = string(key)
		fields = append(fields, f)
		i = end
	}
	if i != len(elems) {
		return nil, fmt.Errorf("%w: %d schema elements past the root's children", ErrLayout, len(elems)-i)
	}
	for k := 1; k < len(fields); k++ {
		if fields[k-1].name >= fields[k].name {
			return nil, fmt.Errorf("%w: fields %q and %q not sorted by name", ErrLayout, fields[k-1].name, fields[k].name)
		}
	}
	return fields, nil
}

// walk reads the subtree at elems[i] into f's leaves and returns the
// index past it; path, def and rep are those of its parent.
func walk(elems []format.SchemaElement, i int, path []string, def, rep int, f *field) (int, error) {
	e := &elems[i]
	path = append(slices.Clip(path), e.Name)
	switch {
	case !e.RepetitionType.Valid:
		return 0, fmt.Errorf("%w: schema element %q has no repetition", ErrLayout, e.Name)
	case e.RepetitionType.V == format.Optional:
		def++
	case e.RepetitionType.V == format.Repeated:
		def++
		rep++
	}
	if !e.NumChildren.Valid || e.NumChildren.V == 0 {
		if !e.Type.Valid {
			return 0, fmt.Errorf("%w: leaf %q has no type", ErrLayout, e.Name)
		}
		f.leaves = append(f.leaves, leaf{path: path, typ: e.Type.V, maxDef: def, maxRep: rep})
		return i + 1, nil
	}
	next := i + 1
	for range e.NumChildren.V {
		if next >= len(elems) {
			return 0, fmt.Errorf("%w: schema ends inside %q", ErrLayout, e.Name)
		}
		var err error
		if next, err = walk(elems, next, path, def, rep, f); err != nil {
			return 0, err
		}
	}
	return next, nil
}
