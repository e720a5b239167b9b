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
// go to Delivery.SetAside, to be set aside with their records. The rows
// are valid only until Write returns (their memory is reused for the next
// batch's rows): a Destination copies what it keeps.
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
	// Place, when set (by the replay), places the batch in a run whose
	// rows a Sequencer puts into files shared across batches. Other
	// destinations ignore it.
	Place *Place
}

// Place is where a batch stands in a run of batches (see Sequencer).
type Place struct {
	// Ticket is the batch's position in the run: tickets are given from
	// 0 up, each once, in the order the run reads its inputs.
	Ticket int
	// Unit names the consecutive tickets (one input's batches) whose rows
	// may share files.
	Unit int
}

// Sequencer is a Destination that puts the rows of a run's batches into
// files shared by consecutive batches of a unit, whatever order the
// batches are written in: Write encodes a batch's rows (in parallel with
// other batches) and keeps them; Done hands them on, in ticket order, to
// files of about the table's target size. What goes into which file
// depends only on the tickets, so a rerun writes the same files.
type Sequencer interface {
	Destination
	// Done says that every Write of the batch at p has returned. whole is
	// false when some of the batch's rows were not handed to Write (a
	// table that could not be committed, a context that ended): the files
	// of its unit still open then, and its unit's later rows, are left
	// unwritten, as the files a rerun writes would differ. Every ticket
	// from 0 up must be Done once. Done may wait for earlier tickets, to
	// bound the rows kept.
	Done(ctx context.Context, p Place, whole bool)
	// EndUnit says that unit's batches are the tickets before next. Its
	// files are finished when read is true (the input was read to its
	// end, or to a break a rerun meets again), else left unwritten. It
	// must be called before ticket next is given.
	EndUnit(unit, next int, read bool)
	// Close finishes the run: it waits for the files being finished,
	// leaves unwritten those of units never ended, and says what was
	// written and what was not.
	Close(ctx context.Context) Assembly
}

// Assembly is what a Sequencer wrote, and what it could not.
type Assembly struct {
	// Written are the files put, in no particular order.
	Written []AssembledFile
	// Unwritten are the files, or rows meant for files, that are not in
	// the lake.
	Unwritten []Unwritten
}

// AssembledFile is one file a Sequencer put.
type AssembledFile struct {
	WrittenFile
	// First is the ticket of its first rows.
	First int
}

// Unwritten is a file, or rows meant for one, that did not reach the
// lake: Rows says how many rows of which batches.
type Unwritten struct {
	Table string
	// Key is the file's key (for rows never given a file, the key their
	// batch's file would have had).
	Key string
	// Err says why: the store's error (wrapped in a *WriteError), or
	// ErrUnfinished.
	Err  error
	Rows []TicketRows
}

// TicketRows counts rows of one batch.
type TicketRows struct {
	Ticket int
	Rows   int
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
