package direct

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/manifest"
)

// Destination is the sink.Destination that writes rows as Parquet files
// straight into the lake's store.
//
// It lists the files in their partitions' manifests (see sink/manifest):
// a file is part of its table once listed. It is safe for concurrent use.
type Destination struct {
	store sink.Store
	files *manifest.Lister
	mu    sync.Mutex
	idle  map[sink.ParquetOptions][]*sink.TableWriter
}

// maxIdleWriters bounds the writers a Destination keeps per set of
// Parquet options between writes: one per CPU covers the writes that run
// at once. They are kept in a list rather than a sync.Pool, which every
// garbage collection empties, so that their buffers and zstd encoders
// (megabytes each) are made once, not once per batch.
func maxIdleWriters() int { return runtime.GOMAXPROCS(0) }

// New returns a Destination writing to store that lists each batch's
// files before Write returns, so that its rows are visible to queries
// when the batch is reported delivered (the Lambda).
func New(store sink.Store) *Destination {
	return &Destination{store: store, files: manifest.NewLister(store), idle: map[sink.ParquetOptions][]*sink.TableWriter{}}
}

// NewDeferred returns a Destination writing to store that lists the
// files it wrote only at Flush.
//
// Flush makes one manifest write per partition however many batches
// wrote there: what the replay needs, whose large inputs write thousands
// of batches into one partition.
func NewDeferred(store sink.Store) *Destination {
	return &Destination{store: store, files: manifest.NewDeferredLister(store), idle: map[sink.ParquetOptions][]*sink.TableWriter{}}
}

// Flush lists the files written since the last Flush; see NewDeferred.
// A Destination that lists at once has nothing to flush.
func (l *Destination) Flush(ctx context.Context) error { return l.files.Flush(ctx) }

// writer returns an idle writer for opts, or a new one.
func (l *Destination) writer(opts sink.ParquetOptions) (*sink.TableWriter, error) {
	l.mu.Lock()
	if ws := l.idle[opts]; len(ws) > 0 {
		w := ws[len(ws)-1]
		ws[len(ws)-1] = nil
		l.idle[opts] = ws[:len(ws)-1]
		l.mu.Unlock()
		return w, nil
	}
	l.mu.Unlock()
	return sink.NewTableWriter(l.store, opts)
}

// release keeps w for the next write with opts, unless enough are kept.
func (l *Destination) release(opts sink.ParquetOptions, w *sink.TableWriter) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.idle[opts]) < maxIdleWriters() {
		l.idle[opts] = append(l.idle[opts], w)
	}
}

// Write encodes the rows into the table's partitions and puts the files.
//
// Rows in files that could not be put, or listed, are reported as failed.
// A row the lake cannot hold whatever the store does (an event time no
// partition can name, a cell the encoder refuses) is set aside with the
// reason (sink.ErrUnwritable), and the other rows are written: one
// record never fails the rest of its batch.
func (l *Destination) Write(ctx context.Context, batchID string, t *sink.Table, rows []flatten.Row) (sink.Delivery, error) {
	w, err := l.writer(t.Parquet)
	if err != nil {
		return failAll(len(rows)), err
	}
	defer l.release(t.Parquet, w)
	var d sink.Delivery
	r := newRefusals(rows, t.Schema.Hourly, &d)
	for {
		sub := r.rest()
		files, err := w.Write(ctx, t.Schema, batchID, sub)
		var ee *sink.EncodeError
		if errors.As(err, &ee) && ee.Row >= 0 && ee.Row < len(sub) {
			// Written again without the row: the files already put are
			// put again with the same bytes.
			r.refuse(r.index(ee.Row), err)
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
				d.Failed = append(d.Failed, r.index(i))
			}
			return d, errors.Join(err, fmt.Errorf("table %s: list files: %w", t.Schema.Table, lerr))
		}
		if err != nil {
			var we *sink.WriteError
			if errors.As(err, &we) {
				for _, i := range we.Unwritten {
					d.Failed = append(d.Failed, r.index(i))
				}
			} else {
				for i := range sub {
					d.Failed = append(d.Failed, r.index(i))
				}
			}
			return d, err
		}
		return d, nil
	}
}

func failAll(n int) sink.Delivery {
	d := sink.Delivery{Failed: make([]int, n)}
	for i := range d.Failed {
		d.Failed[i] = i
	}
	return d
}

// refusals keeps the rows of a batch the lake cannot hold, set aside in
// a Delivery (sink.ErrUnwritable), and the rows left to encode.
type refusals struct {
	rows []flatten.Row
	d    *sink.Delivery
	sub  []flatten.Row // the rows rest last returned
	// keep maps the rows of sub to their index in rows; nil while they
	// are all of rows.
	keep []int
}

// newRefusals sets aside, in d, the rows whose event time no partition
// can name.
func newRefusals(rows []flatten.Row, hourly bool, d *sink.Delivery) *refusals {
	r := &refusals{rows: rows, d: d, sub: rows}
	var parts sink.Partitions
	for i := range rows {
		if _, err := parts.Of(rows[i].EventTime, hourly); err != nil {
			r.refuse(i, err)
		}
	}
	return r
}

// refuse sets row i of rows aside for why.
func (r *refusals) refuse(i int, why error) {
	if r.d.SetAside == nil {
		r.d.SetAside = map[int]error{}
	}
	r.d.SetAside[i] = fmt.Errorf("%w: %w", sink.ErrUnwritable, why)
}

// rest returns the rows not set aside, in order.
func (r *refusals) rest() []flatten.Row {
	if len(r.d.SetAside) > 0 {
		r.keep, r.sub = r.keep[:0], r.sub[:0:0]
		for i := range r.rows {
			if _, out := r.d.SetAside[i]; !out {
				r.keep = append(r.keep, i)
				r.sub = append(r.sub, r.rows[i])
			}
		}
	}
	return r.sub
}

// index is the index in rows of row i of what rest last returned.
func (r *refusals) index(i int) int {
	if r.keep == nil {
		return i
	}
	return r.keep[i]
}
