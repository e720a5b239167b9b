package latest

import "errors"

// Errors of the package.
var (
	// ErrBadState is a pointer that cannot be read.
	ErrBadState = errors.New("bad latest-state pointer")
	// ErrNotClosed is a day asked for that may still receive writes.
	ErrNotClosed = errors.New("day not closed")
)
