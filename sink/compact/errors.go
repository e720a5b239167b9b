package compact

import "errors"

// ErrBadOptions is a run asked with options out of range.
var ErrBadOptions = errors.New("bad compaction options")
