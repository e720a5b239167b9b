package ionexport

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ddblake/ddblake/flatten"
)

// Errors for Ion that is not a DynamoDB export item. They arrive wrapped
// in an *ItemError or a *StreamError.
var (
	// ErrType is an Ion value no DynamoDB attribute can be: a float,
	// timestamp, symbol, clob, sexp, or typed null (null.string...).
	ErrType = errors.New("Ion value DynamoDB cannot hold")
	// ErrAnnotation is an annotation other than one set annotation
	// ($dynamodb_SS, $dynamodb_NS, $dynamodb_BS) on a list.
	ErrAnnotation = errors.New("unknown Ion annotation")
	// ErrEscape is a \u or \U escape in a string or field name that
	// names no Unicode character: a lone UTF-16 surrogate (\ud800) or a
	// code point past U+10FFFF (\U00110000). It wraps
	// flatten.ErrBadUTF8, as the same escape in DynamoDB JSON does.
	ErrEscape = fmt.Errorf("Ion escape naming no character: %w", flatten.ErrBadUTF8)
	// ErrShape is an Ion item that is not a struct of members holding
	// structs of attributes (or null), or a field name without text.
	ErrShape = errors.New("not a DynamoDB export item")
	// ErrMalformed is Ion data that cannot be read: malformed, truncated
	// or of an unknown version.
	ErrMalformed = errors.New("malformed Ion data")
	// ErrTooLarge is an item whose Ion data, or whose JSON line, is
	// longer than the Reader's bound.
	ErrTooLarge = errors.New("Ion item too large")
)

// ItemError is an item that is not a DynamoDB export item. The items
// after it are read on.
type ItemError struct {
	// Item is the 1-based position of the item in the data.
	Item int
	// Path locates the value in question: member and attribute names
	// joined as flatten.JoinPath does, list and set positions 0-based
	// (Item.tags.3); empty for the item as a whole.
	Path string
	// Err is the cause, wrapping one of the package's sentinels.
	Err error
}

// Error says where and why.
func (e *ItemError) Error() string {
	var b strings.Builder
	b.WriteString("Ion item ")
	b.WriteString(strconv.Itoa(e.Item))
	if e.Path != "" {
		b.WriteString(": ")
		b.WriteString(e.Path)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause.
func (e *ItemError) Unwrap() error { return e.Err }

// StreamError is Ion data that cannot be read further: nothing after it
// is read.
type StreamError struct {
	// Item is the 1-based position of the item being read when the data
	// broke (one past the last item read).
	Item int
	// Offset is the byte offset in the data where it broke, as the Ion
	// library or the byte count tells it; -1 when unknown.
	Offset int64
	// Err is the cause: wrapping ErrMalformed or ErrTooLarge, or the
	// error of the underlying reader.
	Err error
}

// Error says where and why.
func (e *StreamError) Error() string {
	var b strings.Builder
	b.WriteString("Ion item ")
	b.WriteString(strconv.Itoa(e.Item))
	if e.Offset >= 0 {
		b.WriteString(" (offset ")
		b.WriteString(strconv.FormatInt(e.Offset, 10))
		b.WriteByte(')')
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause.
func (e *StreamError) Unwrap() error { return e.Err }
