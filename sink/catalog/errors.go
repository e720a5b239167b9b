package catalog

import "errors"

// Sentinel errors of the catalog package.
var (
	// ErrBadConfig is returned by Config.Validate and New.
	ErrBadConfig = errors.New("invalid catalog configuration")
	// ErrForeignTable means the catalog holds a table or view of the
	// name that ddblake did not define (another input format, a view
	// where a table belongs): Sync leaves it alone and says so.
	ErrForeignTable = errors.New("the catalog holds another definition under this name")
	// ErrRetriesExhausted means a table could not be brought up to date
	// within the allowed attempts (concurrent changes or throttling).
	ErrRetriesExhausted = errors.New("retries exhausted")
	// ErrViewTooLong means a <table>_latest view's text would be longer
	// than Glue stores (MaxViewTextLen): the view is not written.
	ErrViewTooLong = errors.New("view too long for Glue")
)
