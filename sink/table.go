package sink

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/schemas"
)

// WrittenFile is one object a writer put in the store.
type WrittenFile struct {
	// Key is the object key, relative to the store's root.
	Key string
	// Table is the lake table (or _unknown for the quarantine).
	Table string
	// Partition is the file's partition.
	Partition Partition
	// Rows is the number of rows (or quarantine records) in the file.
	Rows int
	// Bytes is the object's size.
	Bytes int64
}

// WriteError is a table write that stopped at a failed Put. Unwritten
// lists the indexes (into the rows given to TableWriter.Write) of every row
// that is in no written file, so the caller can retry or report exactly
// those records.
type WriteError struct {
	Table     string
	Key       string
	Unwritten []int
	Err       error
}

// Error says what failed, where, and why.
func (e *WriteError) Error() string {
	return fmt.Sprintf("table %s: write %s: %d rows not written: %v", e.Table, e.Key, len(e.Unwritten), e.Err)
}

// Unwrap returns the cause.
func (e *WriteError) Unwrap() error { return e.Err }

// TableWriter writes the rows of a table as Parquet files in a Store:
// rows are grouped by partition (dt, and hr for hourly tables, from each
// row's event time), each partition is encoded into files of about the
// target size, and each file is put under DataKey(table, partition,
// FileName(batchID, part)). A file is visible only once complete (Put is
// atomic), and the same rows and batch ID always give the same keys and
// bytes, so a rerun replaces its files. A TableWriter is not safe for
// concurrent use.
type TableWriter struct {
	store Store
	enc   *Encoder
	parts map[Partition][]int32
	order []Partition
}

// NewTableWriter returns a TableWriter, or an error wrapping ErrBadConfig.
func NewTableWriter(store Store, opts ParquetOptions) (*TableWriter, error) {
	enc, err := NewEncoder(opts)
	if err != nil {
		return nil, err
	}
	return &TableWriter{store: store, enc: enc, parts: map[Partition][]int32{}}, nil
}

// Options returns the encoder options in force, defaults filled in.
func (w *TableWriter) Options() ParquetOptions { return w.enc.Options() }

// Write encodes rows (typed by s, partitioned by s.Hourly) and puts the
// files, returning them in key order. It fails before writing anything
// for a bad table name or batch ID (ErrBadName) and for a row that cannot
// be encoded (*EncodeError, with the row's index in rows); a failed Put
// stops it with a *WriteError listing the rows left unwritten, and the
// files written before it are returned too.
func (w *TableWriter) Write(ctx context.Context, s *schemas.Schema, batchID string, rows []flatten.Row) ([]WrittenFile, error) {
	var out []WrittenFile
	err := w.encode(s, batchID, rows, func(pi, done int, f WrittenFile, body []byte) error {
		if err := w.store.Put(ctx, f.Key, body); err != nil {
			return &WriteError{Table: s.Table, Key: f.Key, Unwritten: w.unwritten(w.parts[w.order[pi]][done:], pi), Err: err}
		}
		out = append(out, f)
		return nil
	})
	return out, err
}

// Encode is Write without the store: it encodes the files Write would
// put and hands each to emit, in key order, with the object it would be
// (Key, Table, Partition, Rows and Bytes set) and its bytes, valid only
// during the call. It fails as Write does before encoding, and stops at
// the first error of emit.
func (w *TableWriter) Encode(s *schemas.Schema, batchID string, rows []flatten.Row, emit func(f WrittenFile, body []byte) error) error {
	return w.encode(s, batchID, rows, func(_, _ int, f WrittenFile, body []byte) error { return emit(f, body) })
}

// encode encodes rows file after file, calling emit with each: pi is its
// partition's position in w.order and done the number of that
// partition's rows in the files before it.
func (w *TableWriter) encode(s *schemas.Schema, batchID string, rows []flatten.Row, emit func(pi, done int, f WrittenFile, body []byte) error) error {
	if err := ValidateTable(s.Table); err != nil {
		return err
	}
	if err := ValidateName(FileName(batchID, 0)); err != nil {
		return err
	}
	clear(w.parts)
	w.order = w.order[:0]
	var parts Partitions
	for i := range rows {
		p, _ := parts.Of(rows[i].EventTime, s.Hourly)
		idx, seen := w.parts[p]
		if !seen {
			w.order = append(w.order, p)
		}
		w.parts[p] = append(idx, int32(i))
	}
	slices.SortFunc(w.order, func(a, b Partition) int {
		return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(a.Hour, b.Hour))
	})
	for _, p := range w.order {
		if err := p.Validate(); err != nil {
			return fmt.Errorf("table %s: event time outside years 0000-9999: %w", s.Table, err)
		}
	}
	for pi, p := range w.order {
		idx := w.parts[p]
		part, done := 0, 0
		err := w.enc.encode(s, rows, idx, func(f EncodedFile) error {
			key, err := DataKey(s.Table, p, FileName(batchID, part))
			if err != nil {
				return err
			}
			if err := emit(pi, done, WrittenFile{Key: key, Table: s.Table, Partition: p, Rows: f.Rows, Bytes: int64(len(f.Body))}, f.Body); err != nil {
				return err
			}
			part++
			done += f.Rows
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// unwritten lists rest and the rows of the partitions after w.order[pi].
func (w *TableWriter) unwritten(rest []int32, pi int) []int {
	out := make([]int, 0, len(rest))
	for _, i := range rest {
		out = append(out, int(i))
	}
	for _, p := range w.order[pi+1:] {
		for _, i := range w.parts[p] {
			out = append(out, int(i))
		}
	}
	slices.Sort(out)
	return out
}
