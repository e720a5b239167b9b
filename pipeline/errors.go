package pipeline

import (
	"errors"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/firehose"
)

// ErrOtherSource is a record of a DynamoDB table from an account or
// region the lake keeps apart: one the configuration does not list among
// the table's sources, or one whose lake table holds the records of
// another account or region that the configuration does not say belong
// together.
var ErrOtherSource = errors.New("record from another account or region")

// ErrNoLakeName is a table for which no free lake table name was found:
// its name and every collision suffix up to a bound are other tables'.
var ErrNoLakeName = errors.New("no free lake table name")

// ErrNothingRead is a replay none of whose sources could be read.
var ErrNothingRead = errors.New("no input could be read")

// errorKindOf is a short stable word for the class of a record's problem,
// for grouping set-aside records: bad_json, bad_table, bad_number, ...
func errorKindOf(err error) string {
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
		{decode.ErrBadTable, "bad_table"},
		{ErrOtherSource, "other_source"},
		{decode.ErrBadSequence, "bad_sequence"},
		{decode.ErrBadTime, "bad_time"},
		{decode.ErrBadEventName, "bad_event_name"},
		{decode.ErrChecksum, "checksum"},
		{decode.ErrItemCount, "item_count"},
		{decode.ErrLineTooLong, "too_large"},
		{decode.ErrItemTooLarge, "too_large"},
		{decode.ErrDuplicateKey, "duplicate_key"},
		{decode.ErrNoTime, "no_time"},
		{sink.ErrUnwritable, "unwritable"},
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
		{decode.ErrBadRecord, "bad_record"},
		{decode.ErrBadIon, "bad_ion"},
		{decode.ErrEmpty, "empty"},
		{decode.ErrTruncated, "truncated"},
		{decode.ErrBadDocument, "bad_document"},
		{decode.ErrRecordTooLarge, "too_large"},
		{decode.ErrCorruptGzip, "corrupt_gzip"},
		{decode.ErrUnknownFormat, "unknown_format"},
		{decode.ErrBadManifest, "bad_manifest"},
		{decode.ErrUnsupported, "unsupported"},
		{decode.ErrMissingFile, "missing_file"},
		{decode.ErrNoTable, "no_table"},
	}
}
