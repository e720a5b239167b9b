package decode

import (
	"errors"
	"strconv"
	"strings"

	"github.com/ddblake/ddblake/flatten"
)

// Errors for records that cannot be read. They arrive wrapped in a
// *RecordError naming the source, the record and, when known, the path.
var (
	// ErrBadRecord is a record that is not valid JSON or lacks, or
	// mistypes, a field every record of its format has.
	ErrBadRecord = errors.New("malformed record")
	// ErrBadEventName is an eventName other than INSERT, MODIFY or REMOVE.
	ErrBadEventName = errors.New("unknown event name")
	// ErrBadTable is a table name that is missing or is not a valid
	// DynamoDB table name (3-255 of [a-zA-Z0-9_.-]).
	ErrBadTable = errors.New("invalid table name")
	// ErrBadSequence is a sequence number that is not 1-40 digits
	// (DynamoDB) or 1-128 digits (Kinesis).
	ErrBadSequence = errors.New("invalid sequence number")
	// ErrBadTime is an event time that is missing, not a number or an
	// RFC 3339 time, or outside years 1970-9999.
	ErrBadTime = errors.New("invalid event time")
	// ErrChecksum marks the records of an export data file whose MD5 does
	// not match its manifest; as an input error it names the file.
	ErrChecksum = errors.New("MD5 checksum mismatch")
	// ErrItemCount marks the records of an export data file whose number
	// of items does not match its manifest; as an input error it names
	// the file.
	ErrItemCount = errors.New("item count mismatch")
	// ErrLineTooLong is a line longer than Options.MaxRecordBytes.
	ErrLineTooLong = errors.New("line too long")
	// ErrItemTooLarge is an image (Keys, NewImage, OldImage or Item)
	// larger than DynamoDB's 400 KB item limit (flatten.ItemSize): no
	// DynamoDB table holds such an item.
	ErrItemTooLarge = errors.New("item larger than DynamoDB's 400 KB limit")
	// ErrDuplicateKey is a record that names one of its fields twice
	// (two NewImage, two eventName...): which one it means cannot be
	// told.
	ErrDuplicateKey = errors.New("repeated key")
)

// Errors for inputs that cannot be read. They arrive wrapped in an
// *InputError naming the input and where it broke.
var (
	// ErrEmpty is an input with no data (or only white space).
	ErrEmpty = errors.New("empty input")
	// ErrTruncated is a JSON document that ends before it is complete.
	ErrTruncated = errors.New("truncated JSON")
	// ErrBadDocument is an event document that is not of the form
	// {"Records":[...]} or has bytes after its end.
	ErrBadDocument = errors.New("malformed event document")
	// ErrRecordTooLarge is one record of an event document larger than
	// Options.MaxRecordBytes.
	ErrRecordTooLarge = errors.New("record too large")
	// ErrCorruptGzip is gzip data that cannot be decompressed.
	ErrCorruptGzip = errors.New("corrupt gzip data")
	// ErrUnknownFormat is an input whose format cannot be detected.
	ErrUnknownFormat = errors.New("unknown input format")
	// ErrBadManifest is an export manifest that cannot be read.
	ErrBadManifest = errors.New("malformed export manifest")
	// ErrBadIon is export data in Amazon Ion that cannot be read, or an
	// item of it holding what DynamoDB cannot (an Ion float, timestamp,
	// symbol, an unknown annotation...).
	ErrBadIon = errors.New("unreadable Ion data")
	// ErrUnsupported is an export in a format other than DYNAMODB_JSON
	// and ION.
	ErrUnsupported = errors.New("unsupported export format")
	// ErrMissingFile is an export data file named by the manifest that
	// does not exist.
	ErrMissingFile = errors.New("missing export data file")
	// ErrNoTable is a line of an export data file read without its
	// manifest, and no Options.Table to name its table.
	ErrNoTable = errors.New("table name unknown")
	// ErrNoTime is a full-export data file read without its manifest,
	// and no Options.ExportTime to date its items.
	ErrNoTime = errors.New("export time unknown")
	// ErrNoStore is an s3:// source with no object store to read it.
	ErrNoStore = errors.New("no object store for this source")
	// ErrNotFound is a source that does not exist.
	ErrNotFound = errors.New("source not found")
)

// RecordError is one record that cannot be read. The rest of its input
// goes on; the record's bytes are in Raw so that it can be set aside.
type RecordError struct {
	// Source names the input: a path, s3:// URI, "-" or the name given
	// for a Lambda payload.
	Source string
	// Index is the record's position, as in ChangeRecord.Index: 1-based
	// line number for line formats, 0-based position in Records[] for
	// event documents.
	Index int
	// Line is, as in ChangeRecord.Line, the 1-based line where an
	// element of an event document starts; 0 for line formats.
	Line int
	// Path locates the bad part inside the record, e.g.
	// dynamodb.NewImage.sender.profile.age (segments joined by
	// flatten.JoinPath); empty when the record as a whole is bad.
	Path string
	// Table is the record's table name when it could be read and is
	// valid, else empty (set-aside records then go to _unknown).
	Table string
	// Sequence is the record's sequence number when it could be read.
	Sequence string
	// EventTimeMicros is the record's event time when it could be read.
	EventTimeMicros int64
	// Raw is the exact bytes of the record (the Records[] element or the
	// line; nil for a line too long to keep). For DecodeEvent it shares
	// the payload's memory.
	Raw []byte
	// Err is the cause: one of this package's sentinels, or a
	// *flatten.AttrError for a bad attribute value.
	Err error
}

// Error names the source, the record (see Where), the path and the
// cause.
func (e *RecordError) Error() string {
	var b strings.Builder
	b.WriteString(e.Source)
	b.WriteString(": ")
	b.WriteString(Where(e.Line, e.Index))
	cause := e.Err
	if e.Path != "" {
		b.WriteString(": ")
		b.WriteString(strings.ReplaceAll(e.Path, "\x00", ""))
		var ae *flatten.AttrError
		if errors.As(cause, &ae) {
			cause = ae.Err
		}
	}
	if cause != nil {
		b.WriteString(": ")
		b.WriteString(cause.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *RecordError) Unwrap() error { return e.Err }

// Where locates a record in its input, the one form every message about
// a record uses, as an *InputError does: "line 7" for a record of a line
// format (JSON lines, export data: index is its line; an Ion item's is
// its line in DynamoDB's one-item-a-line text), "line 3: record 2" for
// element 2 (0-based) of the Records of an event document, starting on
// line 3 (line > 0).
func Where(line, index int) string {
	if line > 0 {
		return "line " + strconv.Itoa(line) + ": record " + strconv.Itoa(index)
	}
	return "line " + strconv.Itoa(index)
}

// InputError is an input, or part of one, that cannot be read further:
// a truncated document, corrupt gzip, an unreadable manifest, a data file
// that is missing or fails its checks. Records before the break have been
// delivered.
type InputError struct {
	// Source names the input (or the export file) that broke.
	Source string
	// Line is the 1-based line where it broke; 0 when unknown.
	Line int
	// Index is the position of the record being read when it broke
	// (Records[] position for event documents); -1 when not applicable.
	Index int
	// Offset is the byte offset (in the decompressed data) where it
	// broke; -1 when unknown.
	Offset int64
	// Err is the cause, wrapping one of this package's sentinels.
	Err error
}

// Error names the source, where it broke and the cause.
func (e *InputError) Error() string {
	var b strings.Builder
	b.WriteString(e.Source)
	if e.Line > 0 {
		b.WriteString(": line ")
		b.WriteString(strconv.Itoa(e.Line))
	}
	if e.Index >= 0 {
		b.WriteString(": record ")
		b.WriteString(strconv.Itoa(e.Index))
	}
	if e.Offset >= 0 {
		b.WriteString(": offset ")
		b.WriteString(strconv.FormatInt(e.Offset, 10))
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *InputError) Unwrap() error { return e.Err }

// InputErrors returns every *InputError in err, which may be one or a
// tree made by errors.Join, in order. Decoding functions return such a
// tree when several inputs, or several files of an export, failed.
func InputErrors(err error) []*InputError {
	var out []*InputError
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case *InputError:
			out = append(out, e)
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		}
	}
	walk(err)
	return out
}

func inputErr(source string, line, index int, offset int64, err error) *InputError {
	return &InputError{Source: source, Line: line, Index: index, Offset: offset, Err: err}
}
