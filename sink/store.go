package sink

import (
	"context"
	"fmt"
	"strings"
)

// Store holds the lake's objects under one root: a local directory or an
// S3 prefix. Keys are relative to the root, '/'-separated, and checked by
// ValidateKey, so no key reaches outside the root. Implementations live in
// subpackages (localstore, s3store) and pass the storetest suite.
//
// Put is atomic: a reader sees the old object or the new one, never part of
// one. PutIf is the compare-and-swap the schema registry is built on.
type Store interface {
	// Put writes body to key, replacing any object there.
	Put(ctx context.Context, key string, body []byte) error
	// Get reads the object at key, or fails with ErrNotExist.
	Get(ctx context.Context, key string) ([]byte, error)
	// GetVersion reads the object at key with an opaque version token for
	// PutIf, or fails with ErrNotExist.
	GetVersion(ctx context.Context, key string) (data []byte, version string, err error)
	// PutIf writes body to key only if the object's current version is
	// ifVersion ("" means: only if no object exists), and returns the new
	// version. It fails with ErrPrecondition when another writer changed
	// the object (or created it) since ifVersion was read.
	PutIf(ctx context.Context, key string, body []byte, ifVersion string) (version string, err error)
	// List returns the objects whose keys start with prefix, sorted by key.
	List(ctx context.Context, prefix string) ([]Object, error)
	// Delete removes the object at key; removing a missing object is not
	// an error.
	Delete(ctx context.Context, key string) error
	// URI names the root, e.g. "/data/lake" or "s3://bucket/prefix".
	URI() string
}

// Object is one listed object.
type Object struct {
	// Key is relative to the store's root.
	Key string
	// Size is the object's length in bytes.
	Size int64
}

// MaxKeyLen is the longest object key accepted, in bytes.
const MaxKeyLen = 1024

// maxSegmentLen is the longest key segment: a file name on most systems.
const maxSegmentLen = 255

// ValidateKey reports whether key is a clean relative object key: segments
// separated by single '/', each 1-255 bytes of [A-Za-z0-9._=-], starting
// with a letter, digit or '_' (so never ".", ".." or a hidden name), and at
// most MaxKeyLen bytes in all. The error wraps ErrBadKey.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty key", ErrBadKey)
	}
	if len(key) > MaxKeyLen {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrBadKey, len(key), MaxKeyLen)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if err := validateSegment(seg); err != nil {
			return fmt.Errorf("%w: %q: %s", ErrBadKey, key, err.Error())
		}
	}
	return nil
}

// ValidatePrefix reports whether prefix may be listed: empty (everything),
// or a valid key optionally followed by one '/'.
func ValidatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	return ValidateKey(strings.TrimSuffix(prefix, "/"))
}

type segmentError string

func (e segmentError) Error() string { return string(e) }

func validateSegment(seg string) error {
	switch {
	case seg == "":
		return segmentError("empty path segment")
	case len(seg) > maxSegmentLen:
		return segmentError("path segment longer than 255 bytes")
	case !isLeadChar(seg[0]):
		return segmentError("path segment " + fmt.Sprintf("%q", seg) + " must start with a letter, digit or '_'")
	}
	for i := 0; i < len(seg); i++ {
		if !isKeyChar(seg[i]) {
			return segmentError(fmt.Sprintf("character %q not allowed", seg[i]))
		}
	}
	return nil
}

func isLeadChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func isKeyChar(c byte) bool {
	return isLeadChar(c) || c == '.' || c == '-' || c == '='
}
