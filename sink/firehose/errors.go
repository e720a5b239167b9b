package firehose

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors of the firehose package. Per-record failures arrive as
// an *EntryError wrapping one of them (or the API error that caused it).
var (
	// ErrBadConfig is returned by Config.Validate and New.
	ErrBadConfig = errors.New("invalid firehose sink configuration")
	// ErrBadStreamName means a delivery stream name is not 1-64 of
	// [a-zA-Z0-9_.-].
	ErrBadStreamName = errors.New("invalid delivery stream name")
	// ErrRecordTooLarge means a record is over Firehose's 1,000 KiB
	// record limit; it is never sent.
	ErrRecordTooLarge = errors.New("record larger than 1,000 KiB")
	// ErrDeadline means the sender stopped before the context's
	// deadline (less the margin), or the context ended.
	ErrDeadline = errors.New("stopped before the deadline")
	// ErrRetriesExhausted means a record still failed after the last
	// allowed attempt.
	ErrRetriesExhausted = errors.New("retries exhausted")
	// ErrRejected means Firehose failed the record with an error code that
	// does not clear by retrying (such as a KMS error).
	ErrRejected = errors.New("record rejected")
	// ErrNotSent means the record was not sent because a record before it
	// (by index) was not delivered: the caller resends from that one on.
	ErrNotSent = errors.New("not sent: an earlier record was not delivered")
	// ErrBadResponse means Firehose's answer did not match the request.
	ErrBadResponse = errors.New("malformed PutRecordBatch response")
	// ErrUnknownOutcome means a call's outcome is unknown: its answer was
	// lost or unreadable, or the call was cut short, so Firehose may have
	// stored the records. The Sender sends them again; when it gives up,
	// the records are reported undelivered and may be stored already.
	ErrUnknownOutcome = errors.New("outcome unknown: the records may have been stored")
	// ErrUndelivered is the error Send returns when some records were not
	// delivered; Result.Undelivered lists them.
	ErrUndelivered = errors.New("records not delivered")
)

// EntryError is one record that was refused or not delivered.
type EntryError struct {
	// Index is the caller's record index (Entry.Index).
	Index int
	// Table is the lake table of the row.
	Table string
	// Stream is the delivery stream the record was meant for ("" when no
	// valid name could be made).
	Stream string
	// Code and Message are Firehose's per-record ErrorCode and
	// ErrorMessage from the last attempt, when it gave one.
	Code    string
	Message string
	// Err is the cause: a sentinel of this package or an API error.
	Err error
}

// Error describes the record and the cause.
func (e *EntryError) Error() string {
	var b strings.Builder
	b.WriteString("firehose: record ")
	b.WriteString(strconv.Itoa(e.Index))
	if e.Table != "" {
		b.WriteString(" of table ")
		b.WriteString(e.Table)
	}
	if e.Stream != "" {
		b.WriteString(" to stream ")
		b.WriteString(e.Stream)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	if e.Code != "" {
		b.WriteString(" (")
		b.WriteString(e.Code)
		if e.Message != "" {
			b.WriteString(": ")
			b.WriteString(e.Message)
		}
		b.WriteByte(')')
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *EntryError) Unwrap() error { return e.Err }
