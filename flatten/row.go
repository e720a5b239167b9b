package flatten

// Meta is the metadata of one row, the same for every table.
type Meta struct {
	// EventName is INSERT, MODIFY, REMOVE or SNAPSHOT.
	EventName string
	// EventID is the DynamoDB record's eventID; empty for exports.
	EventID string
	// EventTime is when the change happened, Unix milliseconds UTC.
	EventTime int64
	// Sequence is the sequence number as it goes in _sequence_number
	// (DynamoDB ones padded to 40 digits); empty for exports.
	Sequence string
	// TTLDelete marks a REMOVE caused by TTL expiry.
	TTLDelete bool
	// OldImage is the record's OldImage as a DynamoDB JSON object (omit
	// and mask rules applied) when the row's data columns do not show
	// the item's state (a MODIFY of a stream whose view type is
	// OLD_IMAGE); nil otherwise.
	OldImage []byte
}

// Datum is one typed cell of a row. Only the field of the column's type is
// set: Int for bigint and timestamp (Unix ms), Float for double, Str for
// string, json and decimal (plain text with exactly the column's scale of
// fraction digits, e.g. "-12.50"), Bytes for binary, Bool for boolean,
// List for arrays (every element Valid) and for maps (see MapLen). Valid
// is false for null.
type Datum struct {
	Valid bool
	Bool  bool
	Int   int64
	Float float64
	Str   string
	Bytes []byte
	List  []Datum
}

// MapOf returns a map cell of the entries kv: key, value, key, value...;
// its List holds, for each entry in the item's order, the key (a valid
// Datum whose Str is the key) then the value (null for a null value:
// flatten keeps NULL entries in _extra, but Parquet and JSON can hold
// one). A valid map cell has at least one entry.
func MapOf(kv ...Datum) Datum { return Datum{Valid: true, List: kv} }

// MapLen is the number of entries of a map cell.
func (d *Datum) MapLen() int { return len(d.List) / 2 }

// MapKey is the key of entry i of a map cell.
func (d *Datum) MapKey(i int) string { return d.List[2*i].Str }

// MapValue is the value of entry i of a map cell.
func (d *Datum) MapValue(i int) *Datum { return &d.List[2*i+1] }

// Row is one flat row: its metadata, its data cells indexed like the
// schema's columns (a row may be shorter than the schema: missing cells
// are null), and _extra.
type Row struct {
	Meta
	// Values holds one cell per schema column, by column index.
	Values []Datum
	// Extra is a DynamoDB JSON object holding every attribute, or part of
	// one, that has no typed column in this row; nil when there is none.
	Extra []byte
}

// Stats counts what a batch produced.
type Stats struct {
	// Rows is the number of rows built.
	Rows int
	// Misfits is the number of values put into _extra because they did not
	// fit their column's type or had no column yet. NULLs, empty lists
	// and empty maps, always kept in _extra, are not counted.
	Misfits int
	// Omitted is the number of attributes dropped by omit rules.
	Omitted int
}

// Add adds o to s.
func (s *Stats) Add(o Stats) {
	s.Rows += o.Rows
	s.Misfits += o.Misfits
	s.Omitted += o.Omitted
}
