package sample

import "errors"

// Errors returned by the generator.
var (
	// ErrBadConfig is a Config that cannot be used; the wrapping error
	// says which field.
	ErrBadConfig = errors.New("invalid sample configuration")
	// ErrBadSize is a size target out of range.
	ErrBadSize = errors.New("size target out of range")
	// ErrDirNotEmpty is an output directory that already holds files.
	ErrDirNotEmpty = errors.New("output directory is not empty")
)
