package sink

import (
	"errors"
	"fmt"
)

// Sentinel errors of the sink package and its stores.
var (
	// ErrNotExist is returned by a Store for a key that has no object.
	ErrNotExist = errors.New("object does not exist")
	// ErrPrecondition is returned by Store.PutIf when the object's version is
	// not the one expected: another writer got there first.
	ErrPrecondition = errors.New("precondition failed: object changed")
	// ErrBadKey is returned for an object key that is not a clean relative
	// path of allowed characters, so it could escape the store's root.
	ErrBadKey = errors.New("invalid object key")
	// ErrBadName is returned for a table, partition or object name that the
	// lake layout refuses.
	ErrBadName = errors.New("invalid lake name")
	// ErrBadDecimal is returned for decimal text that does not fit its
	// column's precision and scale.
	ErrBadDecimal = errors.New("invalid decimal value")
	// ErrBadConfig is returned for sink options that are out of range.
	ErrBadConfig = errors.New("invalid sink configuration")
	// ErrContention is returned when a registry commit lost the race to
	// other writers more times than its retry budget allows.
	ErrContention = errors.New("registry commit kept losing to concurrent writers")
	// ErrUnfinished is a file a Sequencer left unwritten because its
	// input was not read to the end or an earlier batch of it failed: the
	// file a rerun writes under its name holds more rows, so this one
	// must not be listed.
	ErrUnfinished = errors.New("file left unfinished")
)

// KeyError is a store operation that failed on one key.
type KeyError struct {
	// Op is the operation: put, get, list, delete, putif.
	Op string
	// Key is the object key, relative to the store's root.
	Key string
	// Err is the cause.
	Err error
}

// Error says what failed, where, and why.
func (e *KeyError) Error() string { return fmt.Sprintf("%s %q: %v", e.Op, e.Key, e.Err) }

// Unwrap returns the cause.
func (e *KeyError) Unwrap() error { return e.Err }

// EncodeError is a row that could not be encoded, naming the table, the
// row's index in the batch handed to the encoder and the column.
type EncodeError struct {
	Table  string
	Row    int
	Column string
	Err    error
}

// Error says what failed, where, and why.
func (e *EncodeError) Error() string {
	return fmt.Sprintf("table %s: row %d: column %s: %v", e.Table, e.Row, e.Column, e.Err)
}

// Unwrap returns the cause.
func (e *EncodeError) Unwrap() error { return e.Err }
