package sink

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"unsafe"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/schemas"
)

// Compression names a Parquet compression codec.
type Compression string

// Compression codecs. The zero value means CompressionZstd.
const (
	CompressionZstd   Compression = "zstd"
	CompressionSnappy Compression = "snappy"
	CompressionGzip   Compression = "gzip"
	CompressionNone   Compression = "none"
)

// Defaults of ParquetOptions.
const (
	DefaultRowGroupBytes      = 64 << 20
	DefaultFileBytes          = 128 << 20
	DefaultPageBytes          = 256 << 10
	DefaultDictionaryMaxBytes = 1 << 20
	DefaultCreatedBy          = "ddblake"
)

// ParquetOptions shape the Parquet files the Encoder writes. The zero
// value applies the defaults.
type ParquetOptions struct {
	// Compression is the codec of every column (default zstd).
	Compression Compression
	// CompressionLevel is the zstd level, as zstd numbers them (1-22,
	// mapped to the encoder's four speeds); 0 is the default level (3).
	// Other codecs ignore it.
	CompressionLevel int
	// RowGroupBytes closes a row group once its encoded size passes it
	// (default 64 MiB).
	RowGroupBytes int64
	// FileBytes closes a file once its size passes it, and the remaining
	// rows go to the next file (default 128 MiB).
	FileBytes int64
	// PageBytes is the in-memory size at which a column page is cut
	// (default 256 KiB).
	PageBytes int
	// DictionaryMaxBytes is the dictionary size past which a string
	// column of a row group falls back to plain encoding (default 1 MiB).
	DictionaryMaxBytes int64
	// CreatedBy is written in the file footer (default "ddblake"). It is
	// the only text of the footer not derived from the rows, so equal
	// rows give equal files.
	CreatedBy string
}

// Validate checks the options; the error wraps ErrBadConfig.
func (o ParquetOptions) Validate() error {
	switch o.Compression {
	case "", CompressionZstd, CompressionSnappy, CompressionGzip, CompressionNone:
	default:
		return fmt.Errorf("%w: compression %q: want zstd, snappy, gzip or none", ErrBadConfig, o.Compression)
	}
	if o.CompressionLevel < 0 || o.CompressionLevel > 22 {
		return fmt.Errorf("%w: compression level %d: want 1 to 22", ErrBadConfig, o.CompressionLevel)
	}
	if o.RowGroupBytes < 0 || o.FileBytes < 0 || o.PageBytes < 0 || o.DictionaryMaxBytes < 0 {
		return fmt.Errorf("%w: negative size", ErrBadConfig)
	}
	return nil
}

func (o ParquetOptions) withDefaults() ParquetOptions {
	if o.Compression == "" {
		o.Compression = CompressionZstd
	}
	if o.RowGroupBytes == 0 {
		o.RowGroupBytes = DefaultRowGroupBytes
	}
	if o.FileBytes == 0 {
		o.FileBytes = DefaultFileBytes
	}
	if o.PageBytes == 0 {
		o.PageBytes = DefaultPageBytes
	}
	if o.DictionaryMaxBytes == 0 {
		o.DictionaryMaxBytes = DefaultDictionaryMaxBytes
	}
	if o.CreatedBy == "" {
		o.CreatedBy = DefaultCreatedBy
	}
	return o
}

// codec returns the codec of one Encoder: a zstd codec of its own, which
// keeps its encoder between files (see zstdCodec).
func (c Compression) codec(level int) compress.Codec {
	switch c {
	case CompressionSnappy:
		return &parquet.Snappy
	case CompressionGzip:
		return &parquet.Gzip
	case CompressionNone:
		return &parquet.Uncompressed
	}
	if level == 0 {
		return &zstdCodec{}
	}
	return &zstdCodec{level: zstd.EncoderLevelFromZstd(level)}
}

// EncodedFile is one finished Parquet file handed to the emit function of
// Encoder.Encode. Body is the encoder's buffer: it is valid only until
// emit returns.
type EncodedFile struct {
	// Body is the whole file.
	Body []byte
	// Rows is the number of rows in the file.
	Rows int
	// RowGroups is the number of row groups in the file.
	RowGroups int
	// Columns are the file's data columns (metadata columns excluded), in
	// table order.
	Columns []string
}

// Encoder turns flat rows of one table into Parquet files. It keeps its
// buffers and the Parquet schemas it built between calls and resets them
// for each file; it is not safe for concurrent use (use one Encoder per
// goroutine). Each file gets a new parquet-go writer: a writer reused
// through Reset in parquet-go v0.32.0 writes empty path_in_schema entries
// in the footer of every file after its first, which Athena cannot read
// (upstream issue 602).
//
// A file holds the metadata columns plus the data columns that at least
// one of its rows has a value for, sorted by name, so the same rows give
// byte-identical files even after the schema gained columns. A string
// column is dictionary-encoded where its values repeat (see planColumns),
// a choice made from the file's own rows for the same reason.
type Encoder struct {
	opts    ParquetOptions
	codec   compress.Codec
	layouts []*fileLayout
	tick    uint64
	buf     bytes.Buffer
	vals    [][]parquet.Value // per leaf column, the values of a write
	arena   arena
	used    []colPlan
	used2   []colPlan
	set     stringSet // the strings of a column, for repeats
	all     []int32
	long    bool // the file being written has a value over MaxStatBytes
}

// maxLayouts bounds how many Parquet schemas an Encoder keeps.
const maxLayouts = 8

// rowsPerWrite is how many rows are converted and written at a time, as
// parquet-go's WriteRows does (pages are cut between writes); the row
// group and file limits are checked between writes.
const rowsPerWrite = 64

// NewEncoder returns an Encoder, or an error wrapping ErrBadConfig.
func NewEncoder(opts ParquetOptions) (*Encoder, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	return &Encoder{opts: opts, codec: opts.Compression.codec(opts.CompressionLevel)}, nil
}

// Options returns the options in force, defaults filled in.
func (e *Encoder) Options() ParquetOptions { return e.opts }

// Encode writes rows, typed by s (rows[i].Values[j] is the cell of
// s.Columns[j]), as one or more Parquet files of about FileBytes each,
// calling emit with each file in order. It stops at the first error from
// emit or from a row that cannot be encoded (an *EncodeError).
func (e *Encoder) Encode(s *schemas.Schema, rows []flatten.Row, emit func(EncodedFile) error) error {
	e.all = e.all[:0]
	for i := range rows {
		e.all = append(e.all, int32(i))
	}
	return e.encode(s, rows, e.all, emit)
}

// encode is Encode over the rows rows[idx[0]], rows[idx[1]], ...
func (e *Encoder) encode(s *schemas.Schema, rows []flatten.Row, idx []int32, emit func(EncodedFile) error) error {
	defer e.clearValues()
	for len(idx) > 0 {
		e.used = e.planColumns(e.used, s, rows, idx)
		lay, err := e.layout(s, e.used)
		if err != nil {
			return err
		}
		n, groups, err := e.writeFile(lay, s, rows, idx, true)
		if err != nil {
			return err
		}
		if n < len(idx) {
			// The file was cut before the end: its rows may use fewer
			// columns than all the remaining rows do, or repeat their
			// values differently.
			e.used2 = e.planColumns(e.used2, s, rows, idx[:n])
			if !slices.Equal(e.used, e.used2) {
				if lay, err = e.layout(s, e.used2); err != nil {
					return err
				}
				if _, groups, err = e.writeFile(lay, s, rows, idx[:n], false); err != nil {
					return err
				}
			}
		}
		if err := emit(EncodedFile{Body: e.buf.Bytes(), Rows: n, RowGroups: groups, Columns: lay.columns}); err != nil {
			return err
		}
		idx = idx[n:]
	}
	return nil
}

// colPlan says how a file writes one data column of the schema.
type colPlan uint8

const (
	// colUsed: some row of the file has a value for the column.
	colUsed colPlan = 1 << iota
	// colDict: its strings (scalar, array elements, map values) are
	// dictionary-encoded.
	colDict
	// colDictKeys: its map keys are dictionary-encoded.
	colDictKeys
)

// planColumns returns the plan of each data column of s for a file of the
// rows idx: used when some row has a value, and for string columns
// whether a dictionary pays: when at least half of the first dictSample
// values (of the file's rows, in order) repeat one seen before. A column
// of distinct values (ids, sort keys, free text) is written plain, which
// saves hashing every value into a dictionary that would be dropped, and
// the dictionary page besides; a column of few values (status, country,
// room ids) becomes a dictionary and small indices. The plan depends on
// the file's rows only, so the same rows give the same bytes.
func (e *Encoder) planColumns(dst []colPlan, s *schemas.Schema, rows []flatten.Row, idx []int32) []colPlan {
	dst = slices.Grow(dst[:0], len(s.Columns))[:len(s.Columns)]
	clear(dst)
	for _, i := range idx {
		vals := rows[i].Values
		for j := range min(len(vals), len(dst)) {
			if vals[j].Valid {
				dst[j] = colUsed
			}
		}
	}
	for j := range dst {
		if dst[j] == 0 {
			continue
		}
		t := s.Columns[j].Type
		switch t.Leaf().Kind {
		case schemas.KindString, schemas.KindJSON:
			if e.repeats(rows, idx, j, t.Kind, false) {
				dst[j] |= colDict
			}
		}
		if t.Kind == schemas.KindMap && e.repeats(rows, idx, j, t.Kind, true) {
			dst[j] |= colDictKeys
		}
	}
	e.set.release()
	return dst
}

// writeFile writes rows idx into e.buf as one file. With cut set it stops
// after the write that takes the file past FileBytes. It returns the
// number of rows written and of row groups.
func (e *Encoder) writeFile(lay *fileLayout, s *schemas.Schema, rows []flatten.Row, idx []int32, cut bool) (int, int, error) {
	e.buf.Reset()
	e.long = false
	w := parquet.NewGenericWriter[parquet.Row](&e.buf, lay.options...)
	cols := w.ColumnWriters()
	var groupStart int64
	groups, inGroup, n := 0, 0, 0
	for n < len(idx) {
		k := min(len(idx)-n, rowsPerWrite)
		if err := e.writeRows(cols, lay, s, rows, idx[n:n+k]); err != nil {
			return 0, 0, err
		}
		n += k
		inGroup += k
		size := w.Size()
		if size-groupStart >= e.opts.RowGroupBytes && n < len(idx) {
			if err := w.Flush(); err != nil {
				return 0, 0, fmt.Errorf("table %s: flush row group: %w", s.Table, err)
			}
			groups++
			inGroup = 0
			groupStart = w.Size()
			size = groupStart
		}
		if cut && size >= e.opts.FileBytes {
			break
		}
	}
	if err := w.Close(); err != nil {
		return 0, 0, fmt.Errorf("table %s: close parquet file: %w", s.Table, err)
	}
	if e.long {
		if err := truncateStats(&e.buf); err != nil {
			return 0, 0, fmt.Errorf("table %s: %w", s.Table, err)
		}
	}
	if inGroup > 0 {
		groups++
	}
	return n, groups, nil
}

// writeRows converts rows idx following lay, column by column, and writes
// each leaf column's values to its column writer: what parquet-go's
// WriteRows does with rows of at most 64 (the same pages, so the same
// bytes) without building the rows then copying their values out by
// column. A cell that cannot be encoded fails the write with an
// *EncodeError naming the first such row, and its first such column.
func (e *Encoder) writeRows(cols []*parquet.ColumnWriter, lay *fileLayout, s *schemas.Schema, rows []flatten.Row, idx []int32) error {
	if len(e.vals) < len(cols) {
		e.vals = append(e.vals, make([][]parquet.Value, len(cols)-len(e.vals))...)
	}
	var bad *EncodeError
	badAt := len(idx)
	e.writeScalars(lay, rows, idx)
	for fi := range lay.fields {
		f := &lay.fields[fi]
		li := f.leaf0
		out := e.vals[li][:0]
		switch f.src {
		case srcEventName:
			for _, i := range idx {
				out = append(out, stringValue(rows[i].EventName))
			}
			setColumn(out, li)
		case srcEventID:
			for _, i := range idx {
				r := &rows[i]
				e.long = e.long || len(r.EventID) > MaxStatBytes
				out = append(out, stringValue(r.EventID))
			}
			setColumn(out, li)
		case srcEventTime:
			for _, i := range idx {
				out = append(out, parquet.Int64Value(rows[i].EventTime))
			}
			setColumn(out, li)
		case srcSequence:
			for _, i := range idx {
				out = append(out, stringValue(rows[i].Sequence))
			}
			setColumn(out, li)
		case srcTTLDelete:
			for _, i := range idx {
				out = append(out, parquet.BooleanValue(rows[i].TTLDelete))
			}
			setColumn(out, li)
		case srcOldImage:
			for _, i := range idx {
				out = e.appendBytes(out, rows[i].OldImage, rows[i].OldImage != nil, li)
			}
		case srcExtra:
			for _, i := range idx {
				out = e.appendBytes(out, rows[i].Extra, len(rows[i].Extra) > 0, li)
			}
		default:
			if f.scalar {
				continue // see writeScalars
			}
			var vals []parquet.Value
			if f.isMap {
				vals = e.vals[li+1][:0]
			}
			for j, i := range idx {
				d := &null
				if r := &rows[i]; f.col < len(r.Values) {
					d = &r.Values[f.col]
				}
				var err error
				switch {
				case f.list:
					out, err = e.appendList(out, f, d, li)
				case f.isMap:
					out, vals, err = e.appendMap(out, vals, f, d, li)
				case !d.Valid:
					out = append(out, parquet.NullValue().Level(0, 0, li))
				default:
					var v parquet.Value
					v, err = e.scalar(f.kind, &f.leaf, d)
					out = append(out, v.Level(0, 1, li))
				}
				if err != nil {
					if j < badAt {
						bad, badAt = &EncodeError{Table: s.Table, Row: int(i), Column: f.name, Err: err}, j
					}
					break
				}
			}
			if f.isMap {
				e.vals[li+1] = vals
			}
		}
		e.vals[li] = out
	}
	if bad != nil {
		e.truncateValues(len(cols))
		return bad
	}
	for li, c := range cols {
		if _, err := c.WriteRowValues(e.vals[li]); err != nil {
			e.truncateValues(len(cols))
			return fmt.Errorf("table %s: write parquet rows: %w", s.Table, err)
		}
	}
	e.truncateValues(len(cols))
	return nil
}

// setColumn sets the column index of the values of the required column
// li, whose levels are 0.
func setColumn(vals []parquet.Value, li int) {
	for k := range vals {
		vals[k].SetColumnIndex(li)
	}
}

// infallible reports whether every cell of a scalar kind k converts to a
// Parquet value (a decimal's text may not).
func infallible(k schemas.Kind) bool {
	switch k {
	case schemas.KindString, schemas.KindJSON, schemas.KindBigint, schemas.KindTimestamp,
		schemas.KindDouble, schemas.KindBoolean, schemas.KindBinary:
		return true
	}
	return false
}

// writeScalars sets the values of rows idx in the scalar columns of
// infallible kinds (lay.scalars): definition level 1 for a value, 0 for
// null. It goes row by row, each row's cells read in one sweep, where a
// column at a time would read each cell from a row far from the last.
// The levels are set through parquet-go's setters, which inline where
// Value.Level is a call.
func (e *Encoder) writeScalars(lay *fileLayout, rows []flatten.Row, idx []int32) {
	for _, fi := range lay.scalars {
		li := lay.fields[fi].leaf0
		e.vals[li] = slices.Grow(e.vals[li][:0], len(idx))[:len(idx)]
	}
	long := false
	for k, i := range idx {
		vals := rows[i].Values
		for _, fi := range lay.scalars {
			f := &lay.fields[fi]
			v := &e.vals[f.leaf0][k]
			if f.col >= len(vals) || !vals[f.col].Valid {
				*v = parquet.Value{}
				v.SetColumnIndex(f.leaf0)
				continue
			}
			d := &vals[f.col]
			switch f.kind {
			case schemas.KindString, schemas.KindJSON:
				long = long || len(d.Str) > MaxStatBytes
				*v = stringValue(d.Str)
			case schemas.KindBigint, schemas.KindTimestamp:
				*v = parquet.Int64Value(d.Int)
			case schemas.KindDouble:
				*v = parquet.DoubleValue(d.Float)
			case schemas.KindBoolean:
				*v = parquet.BooleanValue(d.Bool)
			case schemas.KindBinary:
				long = long || len(d.Bytes) > MaxStatBytes
				*v = parquet.ByteArrayValue(d.Bytes)
			}
			v.SetDefinitionLevel(1)
			v.SetColumnIndex(f.leaf0)
		}
	}
	e.long = e.long || long
}

// truncateValues empties the value buffers of the first n leaf columns,
// and the decimal arena, for the next write; their memory keeps the
// values until clearValues.
func (e *Encoder) truncateValues(n int) {
	for li := range e.vals[:n] {
		e.vals[li] = e.vals[li][:0]
	}
	e.arena.reset()
}

// clearValues zeroes the value buffers, dropping their references to the
// rows' memory once Encode is done with them.
func (e *Encoder) clearValues() {
	for li := range e.vals {
		clear(e.vals[li][:cap(e.vals[li])])
		e.vals[li] = e.vals[li][:0]
	}
}

// appendBytes appends the value of an optional BYTE_ARRAY metadata
// column: b when ok, else null.
func (e *Encoder) appendBytes(out []parquet.Value, b []byte, ok bool, li int) []parquet.Value {
	if !ok {
		return append(out, parquet.NullValue().Level(0, 0, li))
	}
	e.long = e.long || len(b) > MaxStatBytes
	v := parquet.ByteArrayValue(b)
	v.SetDefinitionLevel(1)
	v.SetColumnIndex(li)
	return append(out, v)
}

// appendList appends the values of an optional 3-level LIST column:
// definition level 0 for a null list, 1 for an empty one, 2 for a null
// element and 3 for an element; repetition level 1 after the first.
func (e *Encoder) appendList(out []parquet.Value, f *layoutField, d *flatten.Datum, li int) ([]parquet.Value, error) {
	switch {
	case !d.Valid:
		return append(out, parquet.NullValue().Level(0, 0, li)), nil
	case len(d.List) == 0:
		return append(out, parquet.NullValue().Level(0, 1, li)), nil
	}
	for k := range d.List {
		el := &d.List[k]
		rep := 1
		if k == 0 {
			rep = 0
		}
		if !el.Valid {
			out = append(out, parquet.NullValue().Level(rep, 2, li))
			continue
		}
		v, err := e.scalar(f.kind, &f.leaf, el)
		if err != nil {
			return out, fmt.Errorf("element %d: %w", k, err)
		}
		v.SetRepetitionLevel(rep)
		v.SetDefinitionLevel(3)
		v.SetColumnIndex(li)
		out = append(out, v)
	}
	return out, nil
}

// appendMap appends the values of an optional MAP column, two leaves:
// the keys (column li, to keys) then the values (li+1, to vals), each
// with definition level 0 for a null map, 2 for an entry, and for the
// values 3 when not null; repetition level 1 after the first entry. A
// valid Datum has at least one entry.
func (e *Encoder) appendMap(keys, vals []parquet.Value, f *layoutField, d *flatten.Datum, li int) ([]parquet.Value, []parquet.Value, error) {
	n := d.MapLen()
	if !d.Valid || n == 0 {
		return append(keys, parquet.NullValue().Level(0, 0, li)), append(vals, parquet.NullValue().Level(0, 0, li+1)), nil
	}
	if len(d.List) != 2*n {
		return keys, vals, fmt.Errorf("map cell of %d keys and values", len(d.List))
	}
	for k := range n {
		rep := 1
		if k == 0 {
			rep = 0
		}
		keys = append(keys, stringValue(d.MapKey(k)).Level(rep, 2, li))
	}
	for k := range n {
		v := d.MapValue(k)
		rep := 1
		if k == 0 {
			rep = 0
		}
		if !v.Valid {
			vals = append(vals, parquet.NullValue().Level(rep, 2, li+1))
			continue
		}
		pv, err := e.scalar(f.kind, &f.leaf, v)
		if err != nil {
			return keys, vals, fmt.Errorf("key %q: %w", d.MapKey(k), err)
		}
		vals = append(vals, pv.Level(rep, 3, li+1))
	}
	return keys, vals, nil
}

// null is the cell of a column a short row does not reach.
var null flatten.Datum

// scalar converts one non-null cell of kind k (t is the scalar type).
func (e *Encoder) scalar(k schemas.Kind, t *schemas.Type, d *flatten.Datum) (parquet.Value, error) {
	switch k {
	case schemas.KindString, schemas.KindJSON:
		e.long = e.long || len(d.Str) > MaxStatBytes
		return stringValue(d.Str), nil
	case schemas.KindBigint, schemas.KindTimestamp:
		return parquet.Int64Value(d.Int), nil
	case schemas.KindDouble:
		return parquet.DoubleValue(d.Float), nil
	case schemas.KindBoolean:
		return parquet.BooleanValue(d.Bool), nil
	case schemas.KindBinary:
		e.long = e.long || len(d.Bytes) > MaxStatBytes
		return parquet.ByteArrayValue(d.Bytes), nil
	case schemas.KindDecimal:
		n := decimalLen(t.Precision) // a few float operations; cheap next to the parse
		b, err := appendDecimal(e.arena.take(n), d.Str, t.Precision, t.Scale, n)
		if err != nil {
			return parquet.Value{}, err
		}
		return parquet.FixedLenByteArrayValue(b), nil
	}
	return parquet.Value{}, fmt.Errorf("%w: %s", schemas.ErrBadType, *t)
}

// stringValue is a BYTE_ARRAY value reading s in place; the writer copies
// it before WriteRows returns.
func stringValue(s string) parquet.Value {
	return parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// arena hands out small byte slices for decimal values; slices stay valid
// until reset, which happens after each write.
type arena struct {
	buf []byte
}

// take returns an empty slice with room for n bytes that no later take
// overwrites before reset.
func (a *arena) take(n int) []byte {
	if cap(a.buf)-len(a.buf) < n {
		a.buf = make([]byte, 0, max(64<<10, n))
	}
	b := a.buf[len(a.buf):len(a.buf)]
	a.buf = a.buf[:len(a.buf)+n]
	return b[:0:n]
}

func (a *arena) reset() { a.buf = a.buf[:0] }

// Sources of a file's fields.
const (
	srcData = iota
	srcEventName
	srcEventID
	srcEventTime
	srcSequence
	srcTTLDelete
	srcExtra
	srcOldImage
)

// layoutField is one top-level column of a file: one leaf, or for a map
// two (keys, then values).
type layoutField struct {
	name  string
	src   int
	col   int // data column index, for srcData
	leaf0 int // index of its first leaf column in the file
	typ   schemas.Type
	list  bool         // typ is an array
	isMap bool         // typ is a map
	leaf  schemas.Type // typ, or its element type for arrays, its value type for maps
	kind  schemas.Kind // leaf.Kind
	// scalar: a data column of a scalar type whose every cell converts
	// (see writeScalars).
	scalar bool
}

// fileLayout is one Parquet schema and the writer options for it: the
// fields in leaf order (by name).
type fileLayout struct {
	sig     string
	fields  []layoutField
	scalars []int // the fields that are scalar, by index
	columns []string
	options []parquet.WriterOption
	tick    uint64
}

// layout returns the cached layout for the metadata columns plus the data
// columns of s that used marks, encoded as it plans, building one if
// needed.
func (e *Encoder) layout(s *schemas.Schema, used []colPlan) (*fileLayout, error) {
	var sig strings.Builder
	sig.WriteString(s.Table)
	for j, u := range used {
		if u != 0 {
			c := s.Columns[j]
			sig.WriteByte(0)
			sig.WriteByte(byte('0' + u))
			sig.WriteString(c.Name)
			sig.WriteByte(' ')
			sig.WriteString(c.Type.String())
		}
	}
	e.tick++
	for _, l := range e.layouts {
		if l.sig == sig.String() {
			l.tick = e.tick
			return l, nil
		}
	}
	l, err := e.newLayout(s, used)
	if err != nil {
		return nil, err
	}
	l.sig, l.tick = sig.String(), e.tick
	if len(e.layouts) < maxLayouts {
		e.layouts = append(e.layouts, l)
	} else {
		oldest := 0
		for i, o := range e.layouts {
			if o.tick < e.layouts[oldest].tick {
				oldest = i
			}
		}
		e.layouts[oldest] = l
	}
	return l, nil
}

func (e *Encoder) newLayout(s *schemas.Schema, used []colPlan) (*fileLayout, error) {
	byName := map[string]layoutField{}
	group := parquet.Group{}
	opts := []parquet.WriterOption{
		parquet.Compression(e.codec),
		parquet.PageBufferSize(e.opts.PageBytes),
		parquet.DictionaryMaxBytes(e.opts.DictionaryMaxBytes),
		parquet.DataPageVersion(1),
		// Page bounds live in the column index, cut to MaxStatBytes; page
		// headers carry none (they would copy every long value twice).
		parquet.DataPageStatistics(false),
		parquet.ColumnIndexSizeLimit(func([]string) int { return MaxStatBytes }),
		&parquet.WriterConfig{CreatedBy: e.opts.CreatedBy},
	}
	srcOf := map[string]int{
		schemas.ColEventName: srcEventName, schemas.ColEventID: srcEventID,
		schemas.ColEventTime: srcEventTime, schemas.ColSequence: srcSequence,
		schemas.ColTTLDelete: srcTTLDelete, schemas.ColExtra: srcExtra, schemas.ColOldImage: srcOldImage,
	}
	for _, c := range schemas.MetadataColumns() {
		// _event_name takes four values; ids, sequence numbers and JSON
		// documents are (nearly) all distinct: see planColumns.
		node := leafNode(c.Type, c.Name == schemas.ColEventName)
		switch c.Name {
		case schemas.ColExtra, schemas.ColOldImage:
			node = parquet.Optional(node)
		default:
			node = parquet.Required(node)
		}
		group[c.Name] = node
		byName[c.Name] = layoutField{name: c.Name, src: srcOf[c.Name], typ: c.Type}
	}
	var columns []string
	for j, u := range used {
		if u == 0 {
			continue
		}
		c := s.Columns[j]
		dict := u&colDict != 0
		if err := c.Type.Validate(); err != nil {
			return nil, fmt.Errorf("table %s: column %s: %w", s.Table, c.Name, err)
		}
		if _, dup := group[c.Name]; dup {
			return nil, fmt.Errorf("%w: table %s: column name %q twice", schemas.ErrBadSchema, s.Table, c.Name)
		}
		columns = append(columns, c.Name)
		leafType := c.Type.Leaf()
		var path []string
		switch c.Type.Kind {
		case schemas.KindArray:
			group[c.Name] = parquet.Optional(parquet.List(parquet.Optional(leafNode(leafType, dict))))
			path = []string{c.Name, "list", "element"}
		case schemas.KindMap:
			// MAP: a repeated key_value group of a required string key
			// and an optional value, as Athena and DuckDB read it.
			group[c.Name] = parquet.Optional(parquet.Map(leafNode(schemas.String, u&colDictKeys != 0), parquet.Optional(leafNode(leafType, dict))))
			path = []string{c.Name, "key_value", "value"}
		default:
			group[c.Name] = parquet.Optional(leafNode(c.Type, dict))
			path = []string{c.Name}
		}
		switch leafType.Kind {
		case schemas.KindDecimal:
			// parquet-go orders FIXED_LEN_BYTE_ARRAY bounds as unsigned
			// bytes, which inverts them for negative decimals; write none.
			opts = append(opts, parquet.SkipPageBounds(path...), parquet.SkipPageStatistics(path...))
		case schemas.KindBinary:
			// parquet-go cuts a column index bound of 0xff bytes to a max
			// below the value; binary values are not filtered on.
			opts = append(opts, parquet.SkipPageBounds(path...))
		}
		byName[c.Name] = layoutField{name: c.Name, src: srcData, col: j, typ: c.Type,
			list: c.Type.Kind == schemas.KindArray, isMap: c.Type.Kind == schemas.KindMap,
			leaf: leafType, kind: leafType.Kind}
	}
	schema := parquet.NewSchema(s.Table, group)
	fields := make([]layoutField, 0, len(group))
	var scalars []int
	leaves := 0
	for _, f := range schema.Fields() {
		lf := byName[f.Name()]
		lf.leaf0 = leaves
		if lf.src == srcData && !lf.list && !lf.isMap && infallible(lf.kind) {
			lf.scalar = true
			scalars = append(scalars, len(fields))
		}
		leaves++
		if lf.isMap {
			leaves++
		}
		fields = append(fields, lf)
	}
	if len(schema.Columns()) != leaves {
		return nil, fmt.Errorf("table %s: parquet schema has %d leaves for %d", s.Table, len(schema.Columns()), leaves)
	}
	return &fileLayout{fields: fields, scalars: scalars, columns: columns, options: append(opts, schema)}, nil
}

// leafNode is the Parquet leaf of a scalar column type; strings are
// dictionary-encoded with dict, else plain.
func leafNode(t schemas.Type, dict bool) parquet.Node {
	switch t.Kind {
	case schemas.KindString, schemas.KindJSON:
		if dict {
			return parquet.Encoded(parquet.String(), &parquet.RLEDictionary)
		}
		return parquet.Encoded(parquet.String(), &parquet.Plain)
	case schemas.KindBigint:
		return parquet.Leaf(parquet.Int64Type)
	case schemas.KindDecimal:
		n := decimalLen(t.Precision)
		d := parquet.Decimal(t.Scale, t.Precision, parquet.FixedLenByteArrayType(n))
		return parquet.Leaf(&decimalType{Type: d.Type(), size: n})
	case schemas.KindDouble:
		return parquet.Leaf(parquet.DoubleType)
	case schemas.KindBoolean:
		return parquet.Leaf(parquet.BooleanType)
	case schemas.KindBinary:
		return parquet.Encoded(parquet.Leaf(parquet.ByteArrayType), &parquet.Plain)
	case schemas.KindTimestamp:
		return parquet.Timestamp(parquet.Millisecond)
	}
	panic("sink: leafNode of " + t.String()) // types are validated before
}
