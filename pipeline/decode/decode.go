package decode

import (
	"bufio"
	"context"
	"fmt"
	"github.com/ddblake/ddblake/flatten"
	"io"
	"strings"
	"time"

	"github.com/valyala/fastjson"
)

// Format is an input format.
type Format string

// Input formats; see docs/FORMATS.md.
const (
	// FormatAuto detects the format from the content (see Resolver and Decoder.DecodeInput).
	FormatAuto Format = "auto"
	// FormatLambda is a {"Records":[...]} DynamoDB stream event.
	FormatLambda Format = "lambda"
	// FormatKinesis is a {"Records":[...]} Kinesis event carrying
	// DynamoDB-for-Kinesis records.
	FormatKinesis Format = "kinesis"
	// FormatJSONL is one stream record (a Records[] element) per line.
	FormatJSONL Format = "jsonl"
	// FormatExport is a full DynamoDB export (DYNAMODB_JSON): an export
	// directory, or a data file of {"Item":{...}} lines.
	FormatExport Format = "export"
	// FormatIncremental is an incremental export: an export directory,
	// or a data file of {"Metadata":...,"Keys":...} lines.
	FormatIncremental Format = "incremental"
)

// Formats lists every format, FormatAuto first.
func Formats() []Format {
	return []Format{FormatAuto, FormatLambda, FormatKinesis, FormatJSONL, FormatExport, FormatIncremental}
}

// ParseFormat returns the format named s ("" is FormatAuto), or an error
// wrapping ErrUnknownFormat.
func ParseFormat(s string) (Format, error) {
	if s == "" {
		return FormatAuto, nil
	}
	for _, f := range Formats() {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("%w: %q (want one of auto, lambda, kinesis, jsonl, export, incremental)", ErrUnknownFormat, s)
}

// defaultMaxRecordBytes bounds one line or one event record by default.
const defaultMaxRecordBytes = 64 << 20

// Options configures a Decoder. The zero value is ready to use.
type Options struct {
	// Table names the table of records whose input names none: stream
	// records without eventSourceARN (GetRecords dumps) and export data
	// files read without their manifest. Empty means such records are
	// errors (ErrBadTable, ErrNoTable).
	Table string
	// ExportTime is the event time of full-export items read without
	// their manifest (their manifest's exportTime dates them otherwise),
	// floored to the second as an export's time is (ExportEventTime).
	// Zero means unknown: such a data file is then an input error
	// (ErrNoTime), rather than rows dated 1970-01-01.
	ExportTime time.Time
	// MaxRecordBytes bounds one line of a line format and one record of
	// an event document (defaultMaxRecordBytes when 0).
	MaxRecordBytes int
	// Workers is the number of goroutines DecodeEvent decodes the
	// records of a large payload with (one when 0 or 1). The callback is
	// still called in order from the calling goroutine, once the payload
	// is decoded.
	Workers int
	// UnusedOldImages, when set, leaves ChangeRecord.OldImage zero on a
	// record that has a NewImage: no row uses that OldImage (see
	// pipeline.Route), so it is only checked, as it would be read (a bad
	// one still fails the record, with the same error), and not built,
	// which saves a good part of the decoding of an update-heavy stream.
	UnusedOldImages bool
	// SpoolBytes bounds the decompressed bytes of an export data file
	// kept in a temporary file (in the system's temporary directory)
	// while the file is read for its MD5 and item count, so that it is
	// then decoded from there rather than read and decompressed a second
	// time. A larger file, or one the temporary file cannot take (a full
	// disk), is read again, as with no spool. 0 means DefaultSpoolBytes;
	// a negative value, no spool.
	SpoolBytes int64
}

// DefaultSpoolBytes is the default Options.SpoolBytes (512 MiB).
const DefaultSpoolBytes = 512 << 20

// Validate checks the options.
func (o Options) Validate() error {
	if o.Table != "" && !ValidTableName(o.Table) {
		return fmt.Errorf("%w: %q", ErrBadTable, o.Table)
	}
	if !o.ExportTime.IsZero() {
		if us := o.ExportTime.UnixMicro(); us < 0 || us >= maxMicros {
			return fmt.Errorf("%w: export time %s is outside years 1970-9999", ErrBadTime, o.ExportTime.UTC().Format(time.RFC3339))
		}
	}
	if o.MaxRecordBytes < 0 {
		return fmt.Errorf("negative MaxRecordBytes %d", o.MaxRecordBytes)
	}
	if o.Workers < 0 {
		return fmt.Errorf("negative Workers %d", o.Workers)
	}
	return nil
}

// RecordFunc receives the records of an input in order: either a decoded
// record (rerr nil) or a record that could not be read (rec nil). Each
// record is new and the callee may keep it. A non-nil return stops the
// decoding, which returns that error.
type RecordFunc func(rec *ChangeRecord, rerr *RecordError) error

// Decoder decodes inputs into change records. It keeps parse buffers
// between calls, so reuse one per goroutine; it is not safe for
// concurrent use.
type Decoder struct {
	opts Options

	outer fastjson.Parser // a record, a line
	inner fastjson.Parser // the data of a Kinesis record
	data  []byte          // decoded Kinesis data
	items flatten.ItemParser
	num   []byte // number text
	// big is set while decoding a record of more than 400 KB, whose
	// images may be larger than DynamoDB allows.
	big bool
	// keys is checkKeys' list of the keys of one object.
	keys [][]byte

	// Last table ARN, its name, account and region, so that a batch of
	// one table allocates them once.
	arn                    []byte
	table, account, region string
	// Last Kinesis stream ARN and its account and region, and the last
	// awsRegion of a DynamoDB-for-Kinesis record.
	streamARN                   []byte
	streamAccount, streamRegion string
	dataRegion                  string
	// Last tableName of a Kinesis record.
	name string

	// Buffers kept for the next input.
	body bodyReader
	head *bufio.Reader // the decompressed input
	// chunks is the memory streamed inputs are read into.
	chunks chunkAlloc

	// For DecodeEvent with Workers > 1.
	spans   []eventSpan
	helpers []*Decoder

	// fast reads records in one pass (see fastElement).
	fast fastReader
	// recs are the records newRecord hands out next.
	recs []ChangeRecord
	// parserOnly turns the fast path off: every record is decoded by the
	// parser path, which the fast one must match (tests compare them).
	parserOnly bool
}

// NewDecoder returns a Decoder, or an error when opts are invalid.
func NewDecoder(opts Options) (*Decoder, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.MaxRecordBytes == 0 {
		opts.MaxRecordBytes = defaultMaxRecordBytes
	}
	if opts.SpoolBytes == 0 {
		opts.SpoolBytes = DefaultSpoolBytes
	}
	return &Decoder{opts: opts}, nil
}

// DecodeEvent decodes a Lambda payload, calling fn for each record in
// Records order.
//
// The payload is a DynamoDB stream event or a Kinesis event
// ({"Records":[...]}); each record's kind is told by its eventSource.
// A record's Index is its position in Records and its Raw the exact bytes
// of the element, sharing payload's memory, as its images' strings do:
// payload must not change while the records are used.
//
// A record that cannot be read is passed to fn as a *RecordError and the
// rest go on. A payload that is not such a document, or is cut short,
// returns an *InputError after the records before the break have been
// passed to fn.
func (d *Decoder) DecodeEvent(payload []byte, source string, fn RecordFunc) error {
	if d.opts.Workers > 1 && len(payload) >= parallelMinBytes {
		return d.decodeEventParallel(payload, source, fn)
	}
	s := docScanner{buf: payload, max: d.opts.MaxRecordBytes}
	return d.decodeDocs(context.Background(), &s, source, FormatAuto, fn)
}

// RecycleImages lets the decoder build the images (Keys, NewImage,
// OldImage) of the records it decodes next in the memory of those of
// every record it decoded before: the caller must no longer use those
// images, whose nodes will be written again (the records' other fields,
// and the images' strings, which share the input's memory, are not
// touched). Call it once a batch of records is done with, as a function
// does at the end of an invocation; a decoder never told so keeps no
// memory for it. See flatten.ItemBuilder.Recycle.
func (d *Decoder) RecycleImages() {
	d.fast.items.Recycle()
	for _, h := range d.helpers {
		h.RecycleImages()
	}
}

// Event decodes a Lambda payload with a new Decoder; see
// Decoder.DecodeEvent. Reuse a Decoder when decoding many payloads.
func Event(payload []byte, source string, fn RecordFunc) error {
	d, _ := NewDecoder(Options{})
	return d.DecodeEvent(payload, source, fn)
}

// ValidTableName reports whether name is a valid DynamoDB table name:
// 3 to 255 characters of a-z, A-Z, 0-9, '_', '-' and '.'.
func ValidTableName(name string) bool {
	if len(name) < 3 || len(name) > 255 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// ValidAccount reports whether s is an AWS account id: 12 digits.
func ValidAccount(s string) bool { return validAccount([]byte(s)) }

// ValidRegion reports whether s looks like an AWS region name: 1-32 of
// [a-z0-9-], starting with a letter (us-east-1, cn-north-1,
// us-gov-west-1).
func ValidRegion(s string) bool { return validRegion([]byte(s)) }

// SequencePad returns a sequence number as it goes in _sequence_number.
//
// DynamoDB sequence numbers (up to 40 digits) are left-padded with zeros
// to 40 digits so that they sort as text; longer ones (Kinesis) and the
// empty string (exports) are returned as they are.
func SequencePad(seq string) string {
	if seq == "" || len(seq) >= 40 {
		return seq
	}
	return strings.Repeat("0", 40-len(seq)) + seq
}

// checkCtx returns ctx's error every 256 records.
func checkCtx(ctx context.Context, n int) error {
	if n&255 == 0 {
		return ctx.Err()
	}
	return nil
}

// readAllLimit reads r to its end, failing past limit bytes.
func readAllLimit(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}
