package rewrite

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/parquet-go/parquet-go/format"

	"github.com/ddblake/ddblake/sink"
)

// Options shape the file Merge writes. Compression, RowGroupBytes,
// PageBytes, DictionaryMaxBytes and CreatedBy are the lake writer's
// (their zero values take sink's defaults); FileBytes is not used.
type Options struct {
	sink.ParquetOptions
	// Keep names top-level fields written even when no copied row has a
	// value for them (the metadata columns).
	Keep []string
}

// File is one input: a Parquet file, the rows of it to copy, and values
// to set on them.
type File struct {
	// Name names the file in errors (its key).
	Name string
	// Rows are the indexes of the rows to copy, ascending; nil copies
	// every row.
	Rows []int64
	// Set gives top-level string fields a value on every row copied from
	// this file (for a partition's dt and hr, which a data file holds
	// only in its path). A field set here must not be in the file.
	Set map[string]string

	file *parquet.File
	size int64
}

// Open reads the footer of a Parquet file held in body.
func Open(name string, body []byte) (*File, error) {
	f, err := parquet.OpenFile(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadFile, name, err)
	}
	return &File{Name: name, file: f, size: int64(len(body))}, nil
}

// NumRows is the number of rows in the file.
func (f *File) NumRows() int64 { return f.file.NumRows() }

// Size is the file's length in bytes.
func (f *File) Size() int64 { return f.size }

// Selected is the number of rows to copy.
func (f *File) Selected() int64 {
	if f.Rows == nil {
		return f.file.NumRows()
	}
	return int64(len(f.Rows))
}

// Schema is the file's Parquet schema.
func (f *File) Schema() *parquet.Schema { return f.file.Schema() }

// Field returns the top-level field named name, or nil.
func (f *File) Field(name string) parquet.Node {
	for _, fl := range f.file.Schema().Fields() {
		if fl.Name() == name {
			return fl
		}
	}
	return nil
}

// Scan calls fn with each row of the file, all of them, in order, with
// its index. The row is valid only during the call.
func (f *File) Scan(fn func(i int64, row parquet.Row) error) error {
	var i int64
	return f.batches(nil, func(rows []parquet.Row) error {
		for _, row := range rows {
			if err := fn(i, row); err != nil {
				return err
			}
			i++
		}
		return nil
	})
}

// batches calls fn with the file's rows a batch at a time, in order:
// all of them, or those whose indexes are in sel (ascending). The rows
// are valid only during the call, and fn may change them.
func (f *File) batches(sel []int64, fn func(rows []parquet.Row) error) error {
	buf := make([]parquet.Row, 128)
	var base int64 // index of buf[0]
	next := 0      // position in sel
	for _, rg := range f.file.RowGroups() {
		if sel != nil && next >= len(sel) {
			break
		}
		rows := rg.Rows()
		for {
			n, err := rows.ReadRows(buf)
			batch := buf[:n]
			if sel != nil {
				batch = batch[:0:0]
				for next < len(sel) && sel[next] < base+int64(n) {
					if sel[next] >= base {
						batch = append(batch, buf[sel[next]-base])
					}
					next++
				}
			}
			base += int64(n)
			if len(batch) > 0 {
				if ferr := fn(batch); ferr != nil {
					_ = rows.Close()
					return ferr
				}
			}
			if errors.Is(err, io.EOF) || (sel != nil && next >= len(sel)) {
				break
			}
			if err != nil {
				_ = rows.Close()
				return fmt.Errorf("%w: %s: %v", ErrBadFile, f.Name, err)
			}
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrBadFile, f.Name, err)
		}
	}
	return nil
}

// setField is the node of a field given by File.Set.
var setField = parquet.Optional(parquet.String())

// Fields is the union of files' top-level fields, by name.
type Fields struct {
	nodes map[string]parquet.Node
	from  map[string]string
}

// NewFields returns an empty union.
func NewFields() *Fields { return &Fields{nodes: map[string]parquet.Node{}, from: map[string]string{}} }

// Add adds f's fields, or fails with ErrConflict (naming both files and
// the field) leaving the union as it was.
func (u *Fields) Add(f *File) error {
	add := map[string]parquet.Node{}
	for _, fl := range f.file.Schema().Fields() {
		add[fl.Name()] = fl
	}
	for name := range f.Set {
		if _, ok := add[name]; ok {
			return fmt.Errorf("%w: %s: field %s is in the file and set on its rows", ErrConflict, f.Name, name)
		}
		add[name] = setField
	}
	for name, n := range add {
		if have, ok := u.nodes[name]; ok && !parquet.EqualNodes(have, n) {
			return fmt.Errorf("%w: field %s is %s in %s and %s in %s", ErrConflict, name,
				shape(have), u.from[name], shape(n), f.Name)
		}
	}
	for name, n := range add {
		if _, ok := u.nodes[name]; !ok {
			u.nodes[name], u.from[name] = n, f.Name
		}
	}
	return nil
}

func shape(n parquet.Node) string {
	s := n.String()
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// Merge writes the selected rows of files, file after file, into one
// Parquet file and returns it with its row count. The files must agree
// on the shape of every field they share (ErrConflict).
func Merge(files []*File, opts Options) ([]byte, int64, error) {
	if err := opts.Validate(); err != nil {
		return nil, 0, err
	}
	o := withDefaults(opts.ParquetOptions)
	union := NewFields()
	for _, f := range files {
		if err := union.Add(f); err != nil {
			return nil, 0, err
		}
	}
	used, err := usedFields(files)
	if err != nil {
		return nil, 0, err
	}
	for _, k := range opts.Keep {
		if _, ok := union.nodes[k]; ok {
			used[k] = true
		}
	}
	group := parquet.Group{}
	for name := range used {
		group[name] = canonical(union.nodes[name])
	}
	schema := parquet.NewSchema("schema", group)
	wopts := []parquet.WriterOption{
		parquet.Compression(codec(o.Compression)),
		parquet.PageBufferSize(o.PageBytes),
		parquet.DictionaryMaxBytes(o.DictionaryMaxBytes),
		parquet.DataPageVersion(1),
		// As the lake's writer: page bounds in the column index, cut to
		// sink.MaxStatBytes; none in the page headers.
		parquet.DataPageStatistics(false),
		parquet.ColumnIndexSizeLimit(func([]string) int { return sink.MaxStatBytes }),
		&parquet.WriterConfig{CreatedBy: o.CreatedBy},
		schema,
	}
	for _, path := range schema.Columns() {
		leaf, _ := schema.Lookup(path...)
		switch t := leaf.Node.Type(); {
		case isDecimal(t):
			// parquet-go orders FIXED_LEN_BYTE_ARRAY bounds as unsigned
			// bytes, wrong for negative decimals: none.
			wopts = append(wopts, parquet.SkipPageBounds(path...), parquet.SkipPageStatistics(path...))
		case t.Kind() == parquet.ByteArray && leafEncoding(leaf.Node) == &parquet.Plain:
			// Binary: parquet-go cuts a bound of 0xff bytes to a max below
			// the value; binary values are not filtered on.
			wopts = append(wopts, parquet.SkipPageBounds(path...))
		}
	}
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[parquet.Row](&buf, wopts...)
	var total, groupStart int64
	for _, f := range files {
		conv, err := parquet.Convert(schema, f.file.Schema())
		if err != nil {
			return nil, 0, fmt.Errorf("%s: convert rows: %w", f.Name, err)
		}
		set := map[int]string{}
		for name, v := range f.Set {
			leaf, ok := schema.Lookup(name)
			if ok {
				set[leaf.ColumnIndex] = v
			}
		}
		err = f.batches(f.Rows, func(rows []parquet.Row) error {
			if _, err := conv.Convert(rows); err != nil {
				return fmt.Errorf("%s: convert rows: %w", f.Name, err)
			}
			if len(set) > 0 {
				for _, row := range rows {
					for i := range row {
						if v, ok := set[row[i].Column()]; ok {
							row[i] = parquet.ByteArrayValue([]byte(v)).Level(0, 1, row[i].Column())
						}
					}
				}
			}
			if _, err := w.WriteRows(rows); err != nil {
				return fmt.Errorf("%s: write rows: %w", f.Name, err)
			}
			total += int64(len(rows))
			if w.Size()-groupStart >= o.RowGroupBytes {
				if err := w.Flush(); err != nil {
					return err
				}
				groupStart = w.Size()
			}
			return nil
		})
		if err != nil {
			return nil, 0, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, 0, err
	}
	if err := sink.TruncateStats(&buf); err != nil {
		return nil, 0, err
	}
	return buf.Bytes(), total, nil
}

// usedFields returns the top-level fields that some selected row of
// files has a value for (an empty list or map counts: it is not null),
// and every field set by File.Set on a file with rows to copy.
func usedFields(files []*File) (map[string]bool, error) {
	used := map[string]bool{}
	for _, f := range files {
		if f.Selected() == 0 {
			continue
		}
		for name := range f.Set {
			used[name] = true
		}
		fields := f.file.Schema().Fields()
		// top[i] is the top-level field of leaf column i, and the
		// definition level from which that field is present.
		type topOf struct {
			name string
			def  int
		}
		var top []topOf
		for _, fl := range fields {
			def := 0
			if fl.Optional() || fl.Repeated() {
				def = 1
			}
			for range leaves(fl) {
				top = append(top, topOf{fl.Name(), def})
			}
		}
		pending := 0
		for _, t := range top {
			if !used[t.name] {
				pending++
			}
		}
		if pending == 0 {
			continue
		}
		err := f.batches(f.Rows, func(rows []parquet.Row) error {
			for _, row := range rows {
				for _, v := range row {
					c := v.Column()
					if c < len(top) && !used[top[c].name] && v.DefinitionLevel() >= top[c].def {
						used[top[c].name] = true
					}
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return used, nil
}

// leaves counts the leaf columns under n.
func leaves(n parquet.Node) []struct{} {
	if n.Leaf() {
		return make([]struct{}, 1)
	}
	var out []struct{}
	for _, f := range n.Fields() {
		out = append(out, leaves(f)...)
	}
	return out
}

func withDefaults(o sink.ParquetOptions) sink.ParquetOptions {
	if o.Compression == "" {
		o.Compression = sink.CompressionZstd
	}
	if o.RowGroupBytes == 0 {
		o.RowGroupBytes = sink.DefaultRowGroupBytes
	}
	if o.PageBytes == 0 {
		o.PageBytes = sink.DefaultPageBytes
	}
	if o.DictionaryMaxBytes == 0 {
		o.DictionaryMaxBytes = sink.DefaultDictionaryMaxBytes
	}
	if o.CreatedBy == "" {
		o.CreatedBy = sink.DefaultCreatedBy
	}
	return o
}

func codec(c sink.Compression) compress.Codec {
	switch c {
	case sink.CompressionSnappy:
		return &parquet.Snappy
	case sink.CompressionGzip:
		return &parquet.Gzip
	case sink.CompressionNone:
		return &parquet.Uncompressed
	}
	return &parquet.Zstd
}

// canonical wraps a node read from a file so that it is written with the
// lake's encodings: its structure, repetition and logical types stay the
// file's; strings (and JSON, enums) are dictionary-encoded, other byte
// arrays plain, everything else the writer's default; no node carries a
// codec of its own.
func canonical(n parquet.Node) parquet.Node {
	if n.Leaf() {
		return &leafNode{Node: n, enc: leafEncoding(n)}
	}
	fields := n.Fields()
	out := make([]parquet.Field, len(fields))
	for i, f := range fields {
		out[i] = &field{Node: canonical(f), name: f.Name()}
	}
	return &groupNode{Node: n, fields: out}
}

func leafEncoding(n parquet.Node) encoding.Encoding {
	t := n.Type()
	if t.Kind() != parquet.ByteArray {
		return nil
	}
	if lt := t.LogicalType(); lt != nil {
		switch lt.Value.(type) {
		case *format.StringType, *format.JsonType, *format.EnumType:
			return &parquet.RLEDictionary
		}
	}
	if ct := t.ConvertedType(); ct != nil {
		switch *ct {
		case deprecated.UTF8, deprecated.Json, deprecated.Enum:
			return &parquet.RLEDictionary
		}
	}
	return &parquet.Plain
}

// isDecimal reports whether t is annotated as a decimal.
func isDecimal(t parquet.Type) bool {
	if lt := t.LogicalType(); lt != nil {
		if _, ok := lt.Value.(*format.DecimalType); ok {
			return true
		}
	}
	ct := t.ConvertedType()
	return ct != nil && *ct == deprecated.Decimal
}

type leafNode struct {
	parquet.Node
	enc encoding.Encoding
}

func (n *leafNode) Encoding() encoding.Encoding { return n.enc }
func (n *leafNode) Compression() compress.Codec { return nil }

type groupNode struct {
	parquet.Node
	fields []parquet.Field
}

func (n *groupNode) Fields() []parquet.Field     { return n.fields }
func (n *groupNode) Encoding() encoding.Encoding { return nil }
func (n *groupNode) Compression() compress.Codec { return nil }

type field struct {
	parquet.Node
	name string
}

func (f *field) Name() string { return f.name }

// Value is not used: rows are copied as parquet.Row values.
func (f *field) Value(reflect.Value) reflect.Value { return reflect.Value{} }
