package flatten

import (
	"errors"
	"strings"
)

// Errors for attribute values that cannot be read. They arrive wrapped in
// an *AttrError that names the attribute path.
var (
	ErrBadJSON       = errors.New("not valid JSON")
	ErrBadValue      = errors.New("malformed attribute value")
	ErrNoType        = errors.New("attribute value has no type")
	ErrMultipleTypes = errors.New("attribute value has more than one type")
	ErrUnknownType   = errors.New("unknown attribute type")
	ErrBadNumber     = errors.New("N is not a number")
	ErrNumberRange   = errors.New("N is beyond DynamoDB's range")
	ErrBadBase64     = errors.New("B is not valid base64")
	ErrTooDeep       = errors.New("nesting deeper than DynamoDB's 32 levels")
	ErrEmptySet      = errors.New("empty set")
	ErrDuplicateName = errors.New("attribute name appears twice")
	ErrBadUTF8       = errors.New("string is not valid UTF-8")
)

// Errors for configuration.
var (
	ErrBadConfig = errors.New("invalid configuration")
	// ErrNoMaskKey is a configuration with mask rules and no mask key:
	// masking without a key could be undone by guessing the values.
	ErrNoMaskKey = errors.New("mask rules need a mask key")
)

// AttrError is an attribute value that cannot be read, with the path of
// the attribute (segments joined by JoinPath; "" for the item itself).
type AttrError struct {
	Path string
	Err  error
}

func (e *AttrError) Error() string {
	if e.Path == "" {
		return e.Err.Error()
	}
	return "attribute " + strings.ReplaceAll(e.Path, "\x00", "") + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *AttrError) Unwrap() error { return e.Err }
