package flatten

import (
	"github.com/ddblake/ddblake/schemas"
)

// Flattener turns items of one table into flat rows, following a
// TableConfig. It is safe for concurrent use; each Batch is not.
type Flattener struct {
	cfg TableConfig
}

// New returns a Flattener for cfg, or ErrBadConfig.
func New(cfg TableConfig) (*Flattener, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Flattener{cfg: cfg}, nil
}

// Batch collects the flattened leaves of many items so that the types of
// new columns can be decided from all of the batch's values, then builds
// typed rows:
//
//	b := f.NewBatch()
//	b.Add(meta, image)              // for each record
//	cols := b.Propose(schema)       // new columns this batch needs
//	// add cols to the schema (merging with the stored registry)
//	rows, stats := b.Rows(nil, schema)
type Batch struct {
	f *Flattener
}

// NewBatch returns an empty batch.
func (f *Flattener) NewBatch() *Batch { return &Batch{f: f} }

// Reset empties the batch for reuse, keeping its memory.
func (b *Batch) Reset() {}

// Len is the number of items added.
func (b *Batch) Len() int { return 0 }

// Add flattens one item (the image chosen for the row) with its metadata.
func (b *Batch) Add(meta Meta, image []Attr) {}

// Propose returns the columns the batch needs that s does not have, in
// first-seen order, with types decided from every value of the batch (or
// declared). Names are proposals: Schema.Add makes them unique.
func (b *Batch) Propose(s *schemas.Schema) []schemas.Column { return nil }

// Rows appends one row per item, typed by s, to dst. Values that do not
// fit their column, and paths s has no column for, go to _extra.
func (b *Batch) Rows(dst []Row, s *schemas.Schema) ([]Row, Stats) { return dst, Stats{} }
