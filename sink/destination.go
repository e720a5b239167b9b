package sink

import (
	"context"
	"errors"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/schemas"
)

// ErrUnwritable is a row the lake cannot hold: a value the decoders and
// the flattener let through but the Parquet encoder or the lake layout
// refuses. Its record is set aside rather than failing the rows around
// it.
var ErrUnwritable = errors.New("row the lake cannot hold")

// Destination delivers the rows of one table of a batch: Parquet files
// in the lake (sink/lake) or records to Firehose (sink/firehose).
//
// It reports the rows it could not deliver in Delivery.Failed rather than
// failing the whole batch; the error says why. Rows it refuses for good
// go to Delivery.SetAside, to be set aside with their records.
type Destination interface {
	Write(ctx context.Context, batchID string, t *Table, rows []flatten.Row) (Delivery, error)
}

// Table is what a Destination needs to know about one table of a batch.
type Table struct {
	// Name is the lake table name.
	Name string
	// Schema types the rows; it holds every column the rows use.
	Schema *schemas.Schema
	// Hourly is true when the table's rules partition it by hour.
	Hourly bool
	// Parquet holds the encoder options of the table's rules
	// (compression, file size).
	Parquet ParquetOptions
}

// Delivery is what a Destination did with the rows of one table.
type Delivery struct {
	// Files and Bytes count the objects written (or records sent).
	Files int
	Bytes int64
	// Failed holds the indexes, into the rows handed over, of the rows
	// that were not delivered, ascending. Set-aside rows are not failed.
	Failed []int
	// SetAside holds rows the destination refused for good (e.g. a row
	// too large for Firehose), by index, with the reason; they go to the
	// quarantine.
	SetAside map[int]error
}
