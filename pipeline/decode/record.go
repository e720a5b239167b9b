package decode

import (
	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/schemas"
)

// Event names.
const (
	EventInsert   = "INSERT"
	EventModify   = "MODIFY"
	EventRemove   = "REMOVE"
	EventSnapshot = "SNAPSHOT"
)

// ChangeRecord is one change to one item, whatever the input format.
type ChangeRecord struct {
	// Source names where the record came from: a file path, s3:// URI,
	// "-" for stdin, or "event" for a Lambda payload.
	Source string
	// Index is the record's position in its source: 1-based line number
	// for line formats, 0-based index in Records[] for events.
	Index int
	// Line is, for an element of an event document, the 1-based line
	// where it starts; 0 for the records of line formats, whose Index is
	// their line. See Where.
	Line int
	// Table is the DynamoDB table name as the input gives it.
	Table string
	// Account and Region are the AWS account and region of the table,
	// from its ARN (eventSourceARN of a stream record, the Kinesis
	// stream's ARN and the record's awsRegion, an export's tableArn);
	// both empty when the input names none (a record read with --table).
	Account, Region string
	// EventName is INSERT, MODIFY, REMOVE or SNAPSHOT.
	EventName string
	// EventID is the record's eventID (for Kinesis, the one inside data).
	EventID string
	// Sequence is the sequence number as given (DynamoDB: 21-40 digits;
	// Kinesis: the Kinesis sequence number); empty for exports.
	Sequence string
	// EventTimeMicros is when the change happened, Unix microseconds UTC.
	EventTimeMicros int64
	// Keys, NewImage and OldImage are the record's images, zero when
	// absent (see Options.UnusedOldImages). Their strings may share the
	// memory of Raw.
	Keys     flatten.Item
	NewImage flatten.Item
	OldImage flatten.Item
	// TTLDelete is true for a REMOVE made by DynamoDB's TTL expiry.
	TTLDelete bool
	// Raw is the bytes the record was read from, for the quarantine.
	Raw []byte
}

// SourceOf returns the account and region of the record's table; not
// Known when the input named neither.
func (r *ChangeRecord) SourceOf() schemas.Source {
	if r.Account == "" || r.Region == "" {
		return schemas.Source{}
	}
	return schemas.Source{Account: r.Account, Region: r.Region}
}
