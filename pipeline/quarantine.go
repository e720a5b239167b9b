package pipeline

import (
	"context"

	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/sink"
)

// SetAside is one record put in the quarantine.
type SetAside struct {
	// Table is the lake table, or "" when unknown.
	Table string
	// EventTimeMicros dates the entry's partition; 0 when unknown.
	EventTimeMicros int64
	// Source, Index, Line and Path locate the record and the bad part
	// (Index and Line as in decode.ChangeRecord).
	Source string
	Index  int
	Line   int
	Path   string
	// Err is the reason.
	Err error
	// Raw is the record's bytes: as read, or as a Redactor left them.
	Raw []byte
	// Redacted says what a Redactor did to Raw: "" (nothing: the bytes
	// as read), RedactedMasked, RedactedEnvelope or RedactedWithheld.
	Redacted string
	// RawSize is the size of the record as read, when Redacted is set.
	RawSize int
}

// SetAsider takes the records that cannot become rows: the Processor's
// quarantine.
type SetAsider interface {
	// SetAside writes entries under names derived from batchID; it is all
	// or nothing.
	SetAside(ctx context.Context, batchID string, entries []SetAside) error
}

// InputSetAsider lists the inputs that could not be read to the end: the
// Replay's quarantine of inputs.
type InputSetAsider interface {
	SetAsideInput(ctx context.Context, name string, errs []*decode.InputError) error
}

// LakeErrors sets records and inputs aside as JSON lines under the lake's
// _errors/ folder, through a sink.Quarantine: it is the SetAsider and the
// InputSetAsider of the Lambda and the replay.
type LakeErrors struct {
	q *sink.Quarantine
}

// NewLakeErrors returns a LakeErrors writing to store.
func NewLakeErrors(store sink.Store) *LakeErrors {
	return &LakeErrors{q: sink.NewQuarantine(store)}
}

// SetAside writes the entries, one object per table and day.
func (s *LakeErrors) SetAside(ctx context.Context, batchID string, entries []SetAside) error {
	recs := make([]sink.QuarantineRecord, len(entries))
	for i, e := range entries {
		recs[i] = sink.QuarantineRecord{
			Table:     e.Table,
			EventTime: floorDiv(e.EventTimeMicros, 1000),
			Reason:    e.Err.Error(),
			Source:    e.Source,
			Index:     e.Index,
			Path:      e.Path,
			ErrorKind: errorKindOf(e.Err),
			Raw:       e.Raw,
			Redacted:  e.Redacted,
			RawSize:   e.RawSize,
		}
	}
	_, err := s.q.Write(ctx, batchID, recs)
	return err
}

// SetAsideInput lists, in <lake>/_errors/_inputs/<name>.jsonl, the
// places where an input could not be read to the end.
func (s *LakeErrors) SetAsideInput(ctx context.Context, name string, errs []*decode.InputError) error {
	recs := make([]sink.QuarantineRecord, len(errs))
	for i, e := range errs {
		recs[i] = sink.QuarantineRecord{
			Reason:    e.Error(),
			Source:    e.Source,
			Index:     e.Line,
			ErrorKind: errorKindOf(e),
		}
	}
	_, err := s.q.WriteInput(ctx, name, recs)
	return err
}
