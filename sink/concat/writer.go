package concat

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// MaxRowGroups is the most row groups a joined file holds: the footer
// numbers them with 16 bits.
const MaxRowGroups = 1<<15 - 1

// Sidecar holds what a Writer keeps until Close: each piece's column and
// offset indexes and footer. An *os.File is one.
type Sidecar interface {
	io.Writer
	io.ReaderAt
}

// Writer joins pieces into one Parquet file written to an io.Writer, in
// the order they are appended. It is not safe for concurrent use.
type Writer struct {
	out      *bufio.Writer
	side     Sidecar
	size     int64 // bytes written to out
	sideSize int64
	err      error
	closed   bool

	// The first piece's header fields, which every piece must share.
	root      string // the root schema element, NumChildren left out
	version   int32
	createdBy string
	kv        string
	hasOrders bool
	codec     format.CompressionCodec

	union  map[string]*unionField
	sorted []*unionField // by name
	leaves int           // of the union
	pieces []pieceRec
	groups int
	chunks int // the pieces' own column chunks
	rows   int64
	proto  thrift.CompactProtocol
}

// unionField is a field of the joined file's schema.
type unionField struct {
	*field
	id int // position in Writer.sorted's creation order, for pieceRec.fields
}

// pieceRec is what a Writer keeps of an appended piece.
type pieceRec struct {
	delta   int64 // where its pages went: offset in out − offset in the piece
	side    int64 // its indexes and footer, in the sidecar
	ciLen   int64
	oiLen   int64
	footLen int64
	ciStart int64 // its own offsets of its column and offset indexes
	oiStart int64
	fields  []int   // unionField ids of its fields, in its order
	rgRows  []int64 // rows of each of its row groups
}

// NewWriter returns a Writer writing the joined file to out and keeping
// the pieces' indexes and footers in side until Close.
func NewWriter(out io.Writer, side Sidecar) *Writer {
	return &Writer{out: bufio.NewWriterSize(out, 64<<10), side: side, union: map[string]*unionField{}}
}

// Pieces is the number of pieces appended.
func (w *Writer) Pieces() int { return len(w.pieces) }

// Rows is the number of rows appended.
func (w *Writer) Rows() int64 { return w.rows }

// RowGroups is the number of row groups appended.
func (w *Writer) RowGroups() int { return w.groups }

// Columns is the number of columns (leaves of the schema) of the joined
// file so far.
func (w *Writer) Columns() int { return w.leaves }

// Size is about the size of the joined file so far: the pages written
// and the indexes and footers kept; the file Close writes is about as
// large, plus the null chunks of missing fields.
func (w *Writer) Size() int64 { return w.size + w.sideSize }

// ColumnsWith is the number of columns the joined file would have with p
// appended.
func (w *Writer) ColumnsWith(p *Piece) int {
	n := w.leaves
	for _, f := range p.fields {
		if _, ok := w.union[f.name]; !ok {
			n += len(f.leaves)
		}
	}
	return n
}

// NullChunksWith is the number of column chunks of nulls the joined
// file would hold with p appended: one for each column of the schema
// that a row group's piece lacks.
func (w *Writer) NullChunksWith(p *Piece) int {
	return (w.groups+p.RowGroups())*w.ColumnsWith(p) - (w.chunks + p.RowGroups()*p.Columns())
}

// Check reports whether p can be appended (an ErrMismatch when not):
// every piece must come from the same writer and table, a field of one
// name must have the same shape in every piece, and a field that some
// piece lacks must be optional, so that its rows can read it as null.
func (w *Writer) Check(p *Piece) error {
	if w.closed {
		return ErrClosed
	}
	if w.groups+p.RowGroups() > MaxRowGroups {
		return fmt.Errorf("%w: more than %d row groups", ErrMismatch, MaxRowGroups)
	}
	if len(w.pieces) == 0 {
		return nil
	}
	root, kv, err := w.head(p)
	if err != nil {
		return err
	}
	switch {
	case root != w.root:
		return fmt.Errorf("%w: another root (table) %q", ErrMismatch, p.meta.Schema[0].Name)
	case p.meta.Version != w.version || p.meta.CreatedBy != w.createdBy || kv != w.kv:
		return fmt.Errorf("%w: another version, writer or key-value metadata", ErrMismatch)
	case p.codec != w.codec:
		return fmt.Errorf("%w: compression %s, not %s", ErrMismatch, p.codec, w.codec)
	case (len(p.meta.ColumnOrders) > 0) != w.hasOrders:
		return fmt.Errorf("%w: column orders in one file and not the other", ErrMismatch)
	}
	have := make(map[string]bool, len(p.fields))
	for _, f := range p.fields {
		have[f.name] = true
		u, ok := w.union[f.name]
		switch {
		case ok && u.key != f.key:
			return fmt.Errorf("%w: field %q has another shape", ErrMismatch, f.name)
		case !ok && !f.optional:
			return fmt.Errorf("%w: field %q is required and earlier pieces lack it", ErrMismatch, f.name)
		}
	}
	for _, u := range w.sorted {
		if !have[u.name] && !u.optional {
			return fmt.Errorf("%w: the piece lacks the required field %q", ErrMismatch, u.name)
		}
	}
	return nil
}

// head returns p's root element (without its child count) and key-value
// metadata, encoded, to compare with the other pieces'.
func (w *Writer) head(p *Piece) (root, kv string, err error) {
	r := p.meta.Schema[0]
	r.NumChildren = thrift.Null[int32]{}
	b, err := thrift.Marshal(&w.proto, &r)
	if err != nil {
		return "", "", fmt.Errorf("%w: root: %v", ErrLayout, err)
	}
	var k []byte
	for i := range p.meta.KeyValueMetadata {
		e, err := thrift.Marshal(&w.proto, &p.meta.KeyValueMetadata[i])
		if err != nil {
			return "", "", fmt.Errorf("%w: key-value metadata: %v", ErrLayout, err)
		}
		k = append(k, e...)
	}
	return string(b), string(k), nil
}

// Append writes p's pages and keeps its indexes and footer. It fails
// with the error of Check, or with the first write error (which the
// Writer keeps: it is then unusable).
func (w *Writer) Append(p *Piece) error {
	if err := w.Check(p); err != nil {
		return err
	}
	if w.err != nil {
		return w.err
	}
	if len(w.pieces) == 0 {
		root, kv, err := w.head(p)
		if err != nil {
			return err
		}
		w.root, w.kv = root, kv
		w.version, w.createdBy, w.hasOrders, w.codec = p.meta.Version, p.meta.CreatedBy, len(p.meta.ColumnOrders) > 0, p.codec
		w.write([]byte(magic))
	}
	rec := pieceRec{
		delta:   w.size - 4,
		side:    w.sideSize,
		ciLen:   p.oiStart - p.dataEnd,
		oiLen:   p.footerStart - p.oiStart,
		footLen: int64(len(p.body)) - 8 - p.footerStart,
		ciStart: p.dataEnd,
		oiStart: p.oiStart,
	}
	w.write(p.body[4:p.dataEnd])
	if w.err == nil {
		_, err := w.side.Write(p.body[p.dataEnd : len(p.body)-8])
		w.err = err
	}
	if w.err != nil {
		return w.err
	}
	w.sideSize += int64(len(p.body)) - 8 - p.dataEnd
	for _, f := range p.fields {
		u, ok := w.union[f.name]
		if !ok {
			u = &unionField{field: f, id: len(w.union)}
			w.union[f.name] = u
			i, _ := slices.BinarySearchFunc(w.sorted, f.name, func(a *unionField, name string) int { return strings.Compare(a.name, name) })
			w.sorted = slices.Insert(w.sorted, i, u)
			w.leaves += len(f.leaves)
		}
		rec.fields = append(rec.fields, u.id)
	}
	for i := range p.meta.RowGroups {
		rec.rgRows = append(rec.rgRows, p.meta.RowGroups[i].NumRows)
	}
	w.pieces = append(w.pieces, rec)
	w.groups += p.RowGroups()
	w.chunks += p.RowGroups() * p.Columns()
	w.rows += p.rows
	return nil
}

func (w *Writer) write(b []byte) {
	if w.err != nil {
		return
	}
	n, err := w.out.Write(b)
	w.size += int64(n)
	w.err = err
}

// Write makes Writer an io.Writer into out, for the footer's encoder.
func (w *Writer) Write(b []byte) (int, error) {
	w.write(b)
	return len(b), w.err
}

// Close writes the rest of the file: the null chunks of missing fields,
// the column indexes, the offset indexes and the footer. It returns the
// file's size. A file of one piece is that piece's bytes; a Writer with
// no piece writes nothing.
func (w *Writer) Close() (int64, error) {
	if w.closed {
		return w.size, ErrClosed
	}
	w.closed = true
	if w.err != nil {
		return w.size, w.err
	}
	switch len(w.pieces) {
	case 0:
		return 0, nil
	case 1:
		r := w.pieces[0]
		rest, err := w.readSide(r, nil)
		if err != nil {
			return w.size, err
		}
		w.write(rest)
		w.tail(r.footLen)
		return w.size, w.flush()
	}
	if err := w.join(); err != nil {
		w.err = err
		return w.size, err
	}
	return w.size, w.flush()
}

func (w *Writer) flush() error {
	if w.err == nil {
		w.err = w.out.Flush()
	}
	return w.err
}

// tail writes the footer's length and the closing magic.
func (w *Writer) tail(footLen int64) {
	var b [8]byte
	binary.LittleEndian.PutUint32(b[:4], uint32(footLen))
	copy(b[4:], magic)
	w.write(b[:])
}

// readSide reads r's indexes and footer from the sidecar into buf.
func (w *Writer) readSide(r pieceRec, buf []byte) ([]byte, error) {
	n := r.ciLen + r.oiLen + r.footLen
	buf = slices.Grow(buf[:0], int(n))[:n]
	if _, err := w.side.ReadAt(buf, r.side); err != nil && !(errors.Is(err, io.EOF) && len(buf) == int(n)) {
		return nil, fmt.Errorf("read the sidecar: %w", err)
	}
	return buf, nil
}

// footer decodes r's footer from its sidecar bytes.
func (w *Writer) footer(r pieceRec, side []byte, md *format.FileMetaData) error {
	*md = format.FileMetaData{}
	if err := thrift.Unmarshal(&w.proto, side[r.ciLen+r.oiLen:], md); err != nil {
		return fmt.Errorf("%w: footer: %v", ErrLayout, err)
	}
	return nil
}

// join writes the tail of a file of several pieces.
func (w *Writer) join() error {
	byID := make([]*unionField, len(w.union))
	for _, u := range w.union {
		byID[u.id] = u
	}
	// present[i][id] is the position of field id among piece i's fields'
	// chunks (its first chunk), or -1.
	present := make([][]int, len(w.pieces))
	for i, r := range w.pieces {
		pos := make([]int, len(byID))
		for k := range pos {
			pos[k] = -1
		}
		chunk := 0
		for _, id := range r.fields {
			pos[id] = chunk
			chunk += len(byID[id].leaves)
		}
		present[i] = pos
	}
	z := nulls{codec: w.codec}

	// The null chunks, row group after row group.
	nullStart := w.size
	for i, r := range w.pieces {
		for _, rows := range r.rgRows {
			for _, u := range w.sorted {
				if present[i][u.id] >= 0 {
					continue
				}
				for l := range u.leaves {
					b, _ := z.chunk(&u.leaves[l], rows)
					w.write(b)
				}
			}
		}
	}

	// The column indexes, then the offset indexes (kept aside meanwhile:
	// a dozen bytes a chunk), chunk after chunk.
	ciStart := w.size
	var ois []byte
	var oiLens []int32
	var side []byte
	var md format.FileMetaData
	var oi format.OffsetIndex
	nullAt := nullStart
	for i, r := range w.pieces {
		var err error
		if side, err = w.readSide(r, side); err != nil {
			return err
		}
		if err := w.footer(r, side, &md); err != nil {
			return err
		}
		for g := range md.RowGroups {
			cols := md.RowGroups[g].Columns
			rows := md.RowGroups[g].NumRows
			for _, u := range w.sorted {
				at := present[i][u.id]
				for l := range u.leaves {
					if at < 0 {
						chunk, _ := z.chunk(&u.leaves[l], rows)
						w.write(z.columnIndex(&u.leaves[l], rows))
						b := z.offsetIndex(nullAt, int64(len(chunk)))
						ois = append(ois, b...)
						oiLens = append(oiLens, int32(len(b)))
						nullAt += int64(len(chunk))
						continue
					}
					c := &cols[at+l]
					if c.ColumnIndexOffset > 0 {
						s := c.ColumnIndexOffset - r.ciStart
						w.write(side[s : s+int64(c.ColumnIndexLength)])
					}
					if c.OffsetIndexOffset <= 0 {
						oiLens = append(oiLens, 0)
						continue
					}
					s := r.ciLen + c.OffsetIndexOffset - r.oiStart
					oi.Reset()
					if err := thrift.Unmarshal(&w.proto, side[s:s+int64(c.OffsetIndexLength)], &oi); err != nil {
						return fmt.Errorf("%w: offset index: %v", ErrLayout, err)
					}
					for k := range oi.PageLocations {
						oi.PageLocations[k].Offset += r.delta
					}
					b, err := thrift.Marshal(&w.proto, &oi)
					if err != nil {
						return err
					}
					ois = append(ois, b...)
					oiLens = append(oiLens, int32(len(b)))
				}
			}
		}
	}
	oiStart := w.size
	w.write(ois)
	ois = nil

	// The footer, written as it is encoded: one row group at a time.
	footStart := w.size
	if err := w.writeFooter(present, &z, nullStart, ciStart, oiStart, oiLens); err != nil {
		return err
	}
	w.tail(w.size - footStart)
	return w.err
}

// writeFooter encodes the joined file's FileMetaData into out, one row
// group at a time, as thrift.Marshal would encode it whole.
func (w *Writer) writeFooter(present [][]int, z *nulls, nullAt, ciAt, oiAt int64, oiLens []int32) error {
	tw := w.proto.NewWriter(w)
	enc := thrift.NewEncoder(tw)
	field := func(delta int16, t thrift.Type) { _ = tw.WriteField(thrift.Field{ID: delta, Type: t, Delta: true}) }
	list := func(n int, t thrift.Type) { _ = tw.WriteList(thrift.List{Size: int32(n), Type: t}) }

	// 1: version, 2: schema, 3: num_rows.
	field(1, thrift.I32)
	_ = tw.WriteInt32(w.version)
	var first format.FileMetaData
	side, err := w.readSide(w.pieces[0], nil)
	if err != nil {
		return err
	}
	if err := w.footer(w.pieces[0], side, &first); err != nil {
		return err
	}
	root := first.Schema[0]
	root.NumChildren = thrift.New(int32(len(w.sorted)))
	elems := 1
	for _, u := range w.sorted {
		elems += len(u.elems)
	}
	field(1, thrift.LIST)
	list(elems, thrift.STRUCT)
	_ = enc.Encode(&root)
	for _, u := range w.sorted {
		for k := range u.elems {
			_ = enc.Encode(&u.elems[k])
		}
	}
	field(1, thrift.I64)
	_ = tw.WriteInt64(w.rows)

	// 4: row groups.
	field(1, thrift.LIST)
	list(w.groups, thrift.STRUCT)
	var md format.FileMetaData
	chunk, ordinal := 0, 0
	for i, r := range w.pieces {
		if side, err = w.readSide(r, side); err != nil {
			return err
		}
		if err := w.footer(r, side, &md); err != nil {
			return err
		}
		for g := range md.RowGroups {
			rg := md.RowGroups[g]
			out := format.RowGroup{
				Columns:             make([]format.ColumnChunk, 0, w.leaves),
				TotalByteSize:       rg.TotalByteSize,
				NumRows:             rg.NumRows,
				TotalCompressedSize: rg.TotalCompressedSize,
				Ordinal:             int16(ordinal),
			}
			if rg.FileOffset > 0 {
				out.FileOffset = rg.FileOffset + r.delta
			}
			for _, u := range w.sorted {
				at := present[i][u.id]
				for l := range u.leaves {
					var c format.ColumnChunk
					if at < 0 {
						b, raw := z.chunk(&u.leaves[l], rg.NumRows)
						size := int64(len(b))
						c = z.meta(&u.leaves[l], rg.NumRows, nullAt, size, raw)
						c.ColumnIndexLength = int32(len(z.columnIndex(&u.leaves[l], rg.NumRows)))
						nullAt += size
						out.TotalByteSize += raw
						out.TotalCompressedSize += size
					} else {
						c = rg.Columns[at+l]
						shift(&c, r.delta)
					}
					if c.ColumnIndexOffset > 0 || at < 0 {
						c.ColumnIndexOffset = ciAt
						ciAt += int64(c.ColumnIndexLength)
					}
					c.OffsetIndexOffset, c.OffsetIndexLength = 0, 0
					if n := oiLens[chunk]; n > 0 {
						c.OffsetIndexOffset, c.OffsetIndexLength = oiAt, n
						oiAt += int64(n)
					}
					chunk++
					out.Columns = append(out.Columns, c)
				}
			}
			if err := enc.Encode(&out); err != nil {
				return err
			}
			ordinal++
		}
	}

	// 5: key-value metadata, 6: created_by, 7: column orders.
	delta := int16(1)
	if len(first.KeyValueMetadata) > 0 {
		field(delta, thrift.LIST)
		list(len(first.KeyValueMetadata), thrift.STRUCT)
		for k := range first.KeyValueMetadata {
			_ = enc.Encode(&first.KeyValueMetadata[k])
		}
	} else {
		delta++
	}
	if w.createdBy != "" {
		field(delta, thrift.BINARY)
		_ = tw.WriteString(w.createdBy)
		delta = 1
	} else {
		delta++
	}
	if w.hasOrders {
		field(delta, thrift.LIST)
		list(w.leaves, thrift.STRUCT)
		for _, u := range w.sorted {
			for k := range u.orders {
				_ = enc.Encode(&u.orders[k])
			}
		}
	}
	_ = tw.WriteField(thrift.Field{Type: thrift.STOP})
	return w.err
}

// shift moves the page offsets of a column chunk by delta; its index
// offsets are set by the caller.
func shift(c *format.ColumnChunk, delta int64) {
	m := &c.MetaData
	m.DataPageOffset += delta
	if m.DictionaryPageOffset > 0 {
		m.DictionaryPageOffset += delta
	}
	if c.FileOffset > 0 {
		c.FileOffset += delta
	}
}
