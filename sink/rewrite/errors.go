package rewrite

import "errors"

// ErrConflict is a field whose shape differs between two files merged.
var ErrConflict = errors.New("a field has different shapes in the files merged")

// ErrBadFile is an input that is not a Parquet file this package can
// read.
var ErrBadFile = errors.New("not a readable Parquet file")
