package manifest

import "errors"

var (
	// ErrBadManifest is a manifest or compaction record that cannot be
	// read: a line that names no data file of its partition, or JSON that
	// is not a record.
	ErrBadManifest = errors.New("bad manifest")
)
