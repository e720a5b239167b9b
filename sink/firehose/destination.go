package firehose

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
)

// Destination is the sink.Destination that sends rows to Amazon Data
// Firehose, which converts them to Parquet in the lake.
//
// Each row is one flat JSON record (see EncodeRow), sent to the delivery
// stream its table names through the Sender's stream template. It is safe
// for concurrent use.
//
// A row too large for Firehose is set aside (it would never be accepted),
// and the rows Firehose did not acknowledge are reported as failed: a
// Lambda reports their records, and every later one, for redelivery.
//
// Firehose converts each record with the columns of the table's Glue
// definition as it last read it, and drops the fields that definition
// lacks: a value of a column added since would be lost. With Columns and
// Direct set, a row is sent only when every column it holds a value in is
// one Firehose surely converts (see Columns); the other rows are written
// by Direct (the lake's own Parquet writer) instead, so no value is lost
// while the catalog and Firehose's copy of it catch up.
type Destination struct {
	sender *Sender
	pool   sync.Pool // *Records

	// Columns tells which columns Firehose surely converts; nil sends
	// every row to Firehose.
	Columns Columns
	// Direct writes the rows Firehose might not convert whole; nil sends
	// every row to Firehose.
	Direct sink.Destination
}

// Columns tells which columns of a table Firehose's record format
// conversion surely knows now.
type Columns interface {
	// Settled returns the table's columns (metadata and data columns)
	// that Firehose converts by now; none when the table is not in the
	// catalog. An error means it cannot tell.
	Settled(ctx context.Context, table string) (map[string]bool, error)
}

// NewDestination returns a Destination sending through sender.
func NewDestination(sender *Sender) *Destination {
	return &Destination{sender: sender}
}

// Write encodes the rows of one table and sends them. Delivery.Files and
// Bytes count the records Firehose acknowledged and their size;
// Delivery.SetAside holds the rows refused before sending (over the
// 1,000 KiB record limit, or a table that makes no valid stream name), and
// Delivery.Failed the rows not acknowledged, whose cause is in the error.
// batchID names the files of the rows Direct writes: Firehose names its
// own objects.
func (f *Destination) Write(ctx context.Context, batchID string, t *sink.Table, rows []flatten.Row) (sink.Delivery, error) {
	if f.Columns == nil || f.Direct == nil {
		return f.send(ctx, t, rows)
	}
	settled, err := f.Columns.Settled(ctx, t.Name)
	if err != nil {
		settled = nil // cannot tell: every row is written directly
	}
	var sent, direct []int
	for i := range rows {
		if convertible(t.Schema, &rows[i], settled) {
			sent = append(sent, i)
		} else {
			direct = append(direct, i)
		}
	}
	if len(direct) == 0 {
		return f.send(ctx, t, rows)
	}
	if len(sent) == 0 {
		return f.Direct.Write(ctx, batchID, t, rows)
	}
	d1, err1 := f.send(ctx, t, pick(rows, sent))
	d2, err2 := f.Direct.Write(ctx, batchID, t, pick(rows, direct))
	d := sink.Delivery{Files: d1.Files + d2.Files, Bytes: d1.Bytes + d2.Bytes}
	for _, part := range []struct {
		d   sink.Delivery
		idx []int
	}{{d1, sent}, {d2, direct}} {
		for _, i := range part.d.Failed {
			d.Failed = append(d.Failed, part.idx[i])
		}
		for i, e := range part.d.SetAside {
			if d.SetAside == nil {
				d.SetAside = map[int]error{}
			}
			d.SetAside[part.idx[i]] = e
		}
	}
	slices.Sort(d.Failed)
	return d, errors.Join(err1, err2)
}

// convertible reports whether Firehose converts every value of row: the
// table is in the catalog and every column the row has a value in is
// settled. Metadata columns are in the catalog from the table's creation.
func convertible(s *schemas.Schema, row *flatten.Row, settled map[string]bool) bool {
	if !settled[schemas.ColEventName] || (row.Extra != nil && !settled[schemas.ColExtra]) ||
		(row.OldImage != nil && !settled[schemas.ColOldImage]) {
		return false
	}
	for i := range row.Values {
		if row.Values[i].Valid && i < len(s.Columns) && !settled[s.Columns[i].Name] {
			return false
		}
	}
	return true
}

func pick(rows []flatten.Row, idx []int) []flatten.Row {
	out := make([]flatten.Row, len(idx))
	for i, j := range idx {
		out[i] = rows[j]
	}
	return out
}

// send encodes rows and sends them to Firehose.
func (f *Destination) send(ctx context.Context, t *sink.Table, rows []flatten.Row) (sink.Delivery, error) {
	recs, _ := f.pool.Get().(*Records)
	if recs == nil {
		recs = &Records{}
	}
	defer func() {
		recs.Reset()
		f.pool.Put(recs)
	}()
	schema := t.Schema
	if schema.Table != t.Name {
		// Entries name their stream by the schema's table; keep them on
		// the table the Processor routed the rows to.
		schema = schema.Clone()
		schema.Table = t.Name
	}
	hourly := schema.Hourly || t.Hourly
	for i := range rows {
		recs.Add(i, schema, &rows[i], hourly)
	}
	res, err := f.sender.Send(ctx, recs.Entries())
	d := sink.Delivery{Files: res.Delivered, Bytes: res.DeliveredBytes}
	if len(res.Refused) > 0 {
		d.SetAside = make(map[int]error, len(res.Refused))
		for _, e := range res.Refused {
			d.SetAside[e.Index] = e
		}
	}
	for _, e := range res.Undelivered {
		d.Failed = append(d.Failed, e.Index)
	}
	d.Failed = slices.Compact(d.Failed) // Undelivered is sorted by index
	return d, err
}
