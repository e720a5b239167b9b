package schemas

import (
	"errors"
	"sort"
)

// Sentinel errors of the schemas package.
var (
	// ErrBadType is returned for a type spelling or shape that is not valid.
	ErrBadType = errors.New("invalid column type")
	// ErrPathExists is returned when a column is added for a path that has one.
	ErrPathExists = errors.New("path already has a column")
	// ErrBadSchema is returned for a stored schema that breaks the invariants.
	ErrBadSchema = errors.New("invalid schema")
	// ErrTooManyColumns is returned when a column is added to a schema
	// that holds its MaxColumns columns already.
	ErrTooManyColumns = errors.New("column cap reached")
)

func sortStrings(s []string) { sort.Strings(s) }
