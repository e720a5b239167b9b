package concat

import "errors"

var (
	// ErrLayout is a Parquet file whose layout a Writer cannot join: not
	// data, column indexes, offset indexes and footer in that order (as
	// parquet-go writes them), or a feature it does not carry over
	// (encryption, bloom filters, columns in other files).
	ErrLayout = errors.New("Parquet file layout that cannot be joined")
	// ErrMismatch is a piece that cannot join the pieces of a Writer: a
	// field of the same name with another shape, another table or writer,
	// or a field that cannot be null.
	ErrMismatch = errors.New("piece does not match the file's schema")
	// ErrClosed is a Writer used after Close.
	ErrClosed = errors.New("concat writer is closed")
)
