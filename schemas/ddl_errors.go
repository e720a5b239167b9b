package schemas

import (
	"errors"
	"strings"
)

// Sentinel errors of table-definition generation (Athena DDL, the latest
// view, Glue, CloudFormation, Firehose).
var (
	// ErrBadName is returned for a database, table or column name that is
	// not a valid Athena name ([a-z0-9_], 1-255 bytes) or is used twice.
	ErrBadName = errors.New("invalid Athena name")
	// ErrBadLocation is returned for a lake location that is not
	// s3://bucket[/prefix].
	ErrBadLocation = errors.New("invalid lake location")
	// ErrNoKeys is returned when the latest-state view is asked of a schema
	// that does not know its key attributes, or whose key attributes have
	// no column.
	ErrNoKeys = errors.New("table keys unknown")
	// ErrTypeChanged is returned when a newer schema gives an existing
	// column another type; Athena cannot read the old files with it.
	ErrTypeChanged = errors.New("column type changed")
	// ErrColumnRemoved is returned when a newer schema lacks a column of
	// the older one; schemas only grow.
	ErrColumnRemoved = errors.New("column removed")
	// ErrPartitioningChanged is returned when a newer schema switches
	// between daily and hourly partitions; that needs a new table, not an
	// ALTER.
	ErrPartitioningChanged = errors.New("partitioning changed")
	// ErrBadOption is returned for a generation option out of its range.
	ErrBadOption = errors.New("invalid option")
	// ErrStatementTooLong is returned for an Athena statement longer than
	// MaxStatementBytes, even without column comments.
	ErrStatementTooLong = errors.New("statement too long for Athena")
)

// DefinitionError reports why a table definition could not be generated:
// the table, the column when one is at fault, and the cause.
type DefinitionError struct {
	Table  string // lake table name
	Column string // column name, empty when the table as a whole is at fault
	Err    error  // the cause, wrapping one of the sentinel errors
}

// Error implements error.
func (e *DefinitionError) Error() string {
	var b strings.Builder
	b.WriteString("table ")
	b.WriteString(e.Table)
	if e.Column != "" {
		b.WriteString(": column ")
		b.WriteString(e.Column)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause.
func (e *DefinitionError) Unwrap() error { return e.Err }
