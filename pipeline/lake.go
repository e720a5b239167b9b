package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/firehose"
	"github.com/ddblake/ddblake/sink/manifest"
)

// LakeSink is the Sink that writes rows as Parquet files straight into
// the lake's store, and lists them in their partitions' manifests (see
// sink/manifest): a file is part of its table once listed. It is safe for
// concurrent use.
type LakeSink struct {
	store sink.Store
	files *manifest.Lister
	mu    sync.Mutex
	pools map[sink.ParquetOptions]*sync.Pool
}

// NewLakeSink returns a LakeSink writing to store that lists each batch's
// files before Write returns, so that its rows are visible to queries when
// the batch is reported delivered (the Lambda).
func NewLakeSink(store sink.Store) *LakeSink {
	return &LakeSink{store: store, files: manifest.NewLister(store), pools: map[sink.ParquetOptions]*sync.Pool{}}
}

// NewDeferredLakeSink returns a LakeSink writing to store that lists the
// files it wrote only at Flush, one manifest write per partition however
// many batches wrote there (replay: a large input writes thousands of
// batches into one partition).
func NewDeferredLakeSink(store sink.Store) *LakeSink {
	return &LakeSink{store: store, files: manifest.NewDeferredLister(store), pools: map[sink.ParquetOptions]*sync.Pool{}}
}

// Flush lists the files written since the last Flush; see
// NewDeferredLakeSink. A LakeSink that lists at once has nothing to flush.
func (l *LakeSink) Flush(ctx context.Context) error { return l.files.Flush(ctx) }

// ParquetOptions returns the encoder options of a table's rules.
func ParquetOptions(cfg TableConfig) sink.ParquetOptions {
	return sink.ParquetOptions{
		Compression: sink.Compression(cfg.Compression),
		FileBytes:   int64(cfg.TargetFileSize),
	}
}

func (l *LakeSink) writer(opts sink.ParquetOptions) (*sink.TableWriter, *sync.Pool, error) {
	l.mu.Lock()
	pool, ok := l.pools[opts]
	if !ok {
		pool = &sync.Pool{}
		l.pools[opts] = pool
	}
	l.mu.Unlock()
	if w, ok := pool.Get().(*sink.TableWriter); ok {
		return w, pool, nil
	}
	w, err := sink.NewTableWriter(l.store, opts)
	return w, pool, err
}

// Write encodes the rows into the table's partitions and puts the files.
// Rows in files that could not be put are reported as failed. A row the
// lake cannot hold whatever the store does (an event time no partition
// can name, a cell the encoder refuses) is set aside with the reason
// (ErrUnwritable), and the other rows are written: one record never
// fails the rest of its batch.
func (l *LakeSink) Write(ctx context.Context, batchID string, t *Table, rows []flatten.Row) (Delivery, error) {
	w, pool, err := l.writer(ParquetOptions(t.Config))
	if err != nil {
		return failAll(len(rows)), err
	}
	defer pool.Put(w)
	var d Delivery
	refuse := func(i int, why error) {
		if d.SetAside == nil {
			d.SetAside = map[int]error{}
		}
		d.SetAside[i] = fmt.Errorf("%w: %w", ErrUnwritable, why)
	}
	// keep maps the rows handed to the writer to their index in rows;
	// nil while they are all of rows.
	var keep []int
	for i := range rows {
		if err := sink.PartitionOf(rows[i].EventTime, t.Schema.Hourly).Validate(); err != nil {
			refuse(i, err)
		}
	}
	sub := rows
	for {
		if len(d.SetAside) > 0 {
			keep, sub = keep[:0], sub[:0:0]
			for i := range rows {
				if _, out := d.SetAside[i]; !out {
					keep = append(keep, i)
					sub = append(sub, rows[i])
				}
			}
		}
		files, err := w.Write(ctx, t.Schema, batchID, sub)
		orig := func(i int) int {
			if keep == nil {
				return i
			}
			return keep[i]
		}
		var ee *sink.EncodeError
		if errors.As(err, &ee) && ee.Row >= 0 && ee.Row < len(sub) {
			// Written again without the row: the files already put are
			// put again with the same bytes.
			refuse(orig(ee.Row), err)
			continue
		}
		d.Files, d.Bytes = len(files), 0
		for _, f := range files {
			d.Bytes += f.Bytes
		}
		if lerr := l.files.Add(ctx, files); lerr != nil {
			// Files no manifest lists are not part of the table: the
			// rows are not delivered, and a retry writes and lists the
			// same files.
			d.Failed = d.Failed[:0]
			for i := range sub {
				d.Failed = append(d.Failed, orig(i))
			}
			return d, errors.Join(err, fmt.Errorf("table %s: list files: %w", t.Schema.Table, lerr))
		}
		if err != nil {
			var we *sink.WriteError
			if errors.As(err, &we) {
				for _, i := range we.Unwritten {
					d.Failed = append(d.Failed, orig(i))
				}
			} else {
				for i := range sub {
					d.Failed = append(d.Failed, orig(i))
				}
			}
			return d, err
		}
		return d, nil
	}
}

func failAll(n int) Delivery {
	d := Delivery{Failed: make([]int, n)}
	for i := range d.Failed {
		d.Failed[i] = i
	}
	return d
}

// StoreQuarantine is the Quarantine that writes set-aside records as JSON
// lines under the lake's _errors/ folder.
type StoreQuarantine struct {
	q *sink.Quarantine
}

// NewStoreQuarantine returns a quarantine writing to store.
func NewStoreQuarantine(store sink.Store) *StoreQuarantine {
	return &StoreQuarantine{q: sink.NewQuarantine(store)}
}

// SetAside writes the entries, one object per table and day.
func (s *StoreQuarantine) SetAside(ctx context.Context, batchID string, entries []SetAside) error {
	recs := make([]sink.QuarantineRecord, len(entries))
	for i, e := range entries {
		recs[i] = sink.QuarantineRecord{
			Table:     e.Table,
			EventTime: floorDiv(e.EventTimeMicros, 1000),
			Reason:    e.Err.Error(),
			Source:    e.Source,
			Index:     e.Index,
			Path:      e.Path,
			ErrorKind: ErrorKind(e.Err),
			Raw:       e.Raw,
			Redacted:  e.Redacted,
			RawSize:   e.RawSize,
		}
	}
	_, err := s.q.Write(ctx, batchID, recs)
	return err
}

// SetAsideInput lists, in <lake>/_errors/_inputs/<name>.jsonl, the
// places where an input could not be read to the end.
func (s *StoreQuarantine) SetAsideInput(ctx context.Context, name string, errs []*InputError) error {
	recs := make([]sink.QuarantineRecord, len(errs))
	for i, e := range errs {
		recs[i] = sink.QuarantineRecord{
			Reason:    e.Error(),
			Source:    e.Source,
			Index:     e.Line,
			ErrorKind: ErrorKind(e),
		}
	}
	_, err := s.q.WriteInput(ctx, name, recs)
	return err
}

// ErrorKind is a short stable word for the class of a record's problem,
// for grouping set-aside records: bad_json, bad_table, bad_number, ...
func ErrorKind(err error) string {
	for _, k := range errorKinds() {
		if errors.Is(err, k.err) {
			return k.kind
		}
	}
	return "other"
}

// errorKind is a sentinel and its word.
type errorKind struct {
	err  error
	kind string
}

// errorKinds lists the sentinels of records and inputs with their words,
// the more precise before the more general.
func errorKinds() []errorKind {
	return []errorKind{
		{ErrBadTable, "bad_table"},
		{ErrOtherSource, "other_source"},
		{ErrBadSequence, "bad_sequence"},
		{ErrBadTime, "bad_time"},
		{ErrBadEventName, "bad_event_name"},
		{ErrChecksum, "checksum"},
		{ErrItemCount, "item_count"},
		{ErrLineTooLong, "too_large"},
		{ErrItemTooLarge, "too_large"},
		{ErrDuplicateKey, "duplicate_key"},
		{ErrNoTime, "no_time"},
		{ErrUnwritable, "unwritable"},
		{firehose.ErrRecordTooLarge, "too_large"},
		{flatten.ErrBadJSON, "bad_json"},
		{flatten.ErrMultipleTypes, "multiple_types"},
		{flatten.ErrNoType, "no_type"},
		{flatten.ErrUnknownType, "unknown_type"},
		{flatten.ErrBadNumber, "bad_number"},
		{flatten.ErrNumberRange, "number_range"},
		{flatten.ErrBadBase64, "bad_base64"},
		{flatten.ErrTooDeep, "too_deep"},
		{flatten.ErrEmptySet, "empty_set"},
		{flatten.ErrDuplicateName, "duplicate_name"},
		{flatten.ErrBadUTF8, "bad_utf8"},
		{flatten.ErrBadValue, "bad_value"},
		{ErrBadRecord, "bad_record"},
		{ErrEmpty, "empty"},
		{ErrTruncated, "truncated"},
		{ErrBadDocument, "bad_document"},
		{ErrRecordTooLarge, "too_large"},
		{ErrCorruptGzip, "corrupt_gzip"},
		{ErrUnknownFormat, "unknown_format"},
		{ErrBadManifest, "bad_manifest"},
		{ErrUnsupported, "unsupported"},
		{ErrMissingFile, "missing_file"},
		{ErrNoTable, "no_table"},
	}
}

// RegistrySchemas is the Schemas of a lake: the schema registry stored in
// the lake, with an in-memory copy so that a batch reads the store only
// for tables it has not seen. It is safe for concurrent use.
type RegistrySchemas struct {
	reg   *sink.Registry
	mu    sync.Mutex
	cache map[string]*schemas.Schema
}

// NewRegistrySchemas returns the Schemas stored in store.
func NewRegistrySchemas(store sink.Store) *RegistrySchemas {
	return &RegistrySchemas{reg: sink.NewRegistry(store), cache: map[string]*schemas.Schema{}}
}

// Schema returns the schema of table as last seen (loaded once).
func (r *RegistrySchemas) Schema(ctx context.Context, table string) (*schemas.Schema, error) {
	r.mu.Lock()
	s, ok := r.cache[table]
	r.mu.Unlock()
	if ok {
		return s, nil
	}
	s, err := r.reg.Load(ctx, table)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.cache[table]; ok { // another goroutine got there first
		return c, nil
	}
	r.cache[table] = s
	return s, nil
}

// Commit merges proposal into the stored schema and remembers the result.
// Schemas handed out before stay valid: they are never modified.
func (r *RegistrySchemas) Commit(ctx context.Context, proposal *schemas.Schema) (*schemas.Schema, error) {
	// The stored schema wins every merge, so concurrent commits, from this
	// process or others, agree on every column's name and type.
	r.mu.Lock()
	defer r.mu.Unlock()
	s, err := r.reg.Commit(ctx, proposal)
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	r.cache[proposal.Table] = s
	return s, nil
}

// Update runs a compare-and-swap on the stored schema of table (see
// sink.Registry.Update) and remembers the result.
func (r *RegistrySchemas) Update(ctx context.Context, table string, change func(stored *schemas.Schema) (*schemas.Schema, error)) (*schemas.Schema, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, err := r.reg.Update(ctx, table, change)
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	if s != nil {
		r.cache[table] = s
	}
	return s, nil
}
