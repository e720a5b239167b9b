package firehose

import (
	"context"
	"slices"
	"sync"

	"github.com/ddblake/ddblake/flatten"
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
type Destination struct {
	sender *Sender
	pool   sync.Pool // *Records
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
// batchID is not used: Firehose names its own objects.
func (f *Destination) Write(ctx context.Context, _ string, t *sink.Table, rows []flatten.Row) (sink.Delivery, error) {
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
