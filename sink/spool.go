package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// Spool is a local file an object is written into before it is put, so
// that a writer can grow a large object on disk rather than in memory
// (the replay's files of the target size). The object at its key does
// not change until Put.
type Spool interface {
	io.Writer
	io.ReaderAt
	// Put makes what was written the object at the spool's key, as Put
	// of a Store would (atomically: readers see the old object or the
	// whole new one), and releases the file, whether or not it succeeds.
	Put(ctx context.Context) error
	// Discard releases the file without putting it.
	Discard() error
}

// SpoolStore is a Store that puts objects from spools without reading
// them into memory: the local store renames the file into place, the S3
// store uploads it in parts.
type SpoolStore interface {
	Store
	// CreateSpool returns an empty spool for the object at key, or fails
	// for a key that is not valid (ErrBadKey) or a file that cannot be
	// created.
	CreateSpool(key string) (Spool, error)
}

// CreateSpool returns a spool for the object at key of store: the
// store's own when it is a SpoolStore, else a file in the system's
// temporary directory that Put reads back into memory and puts with
// store.Put.
func CreateSpool(store Store, key string) (Spool, error) {
	if ss, ok := store.(SpoolStore); ok {
		return ss.CreateSpool(key)
	}
	if err := ValidateKey(key); err != nil {
		return nil, &KeyError{Op: "put", Key: key, Err: err}
	}
	f, err := NewTempFile("")
	if err != nil {
		return nil, &KeyError{Op: "put", Key: key, Err: err}
	}
	return &memSpool{TempFile: f, store: store, key: key}, nil
}

// memSpool is the spool of a store that takes only whole bodies.
type memSpool struct {
	*TempFile
	store Store
	key   string
}

func (s *memSpool) Put(ctx context.Context) error {
	defer s.Discard()
	body, err := io.ReadAll(io.NewSectionReader(s.File, 0, s.Size()))
	if err != nil {
		return &KeyError{Op: "put", Key: s.key, Err: err}
	}
	return s.store.Put(ctx, s.key, body)
}

// TempFile is a temporary file removed when it is closed (or at once,
// where the system lets an open file be removed: then a process that
// dies leaves nothing behind). It counts what is written to it.
type TempFile struct {
	*os.File
	size int64
	path string // still to remove on Discard, or ""
}

// NewTempFile creates a temporary file in dir (the system's temporary
// directory when "").
func NewTempFile(dir string) (*TempFile, error) {
	f, err := os.CreateTemp(dir, "ddblake-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("temporary file: %w", err)
	}
	t := &TempFile{File: f}
	if os.Remove(f.Name()) != nil {
		t.path = f.Name()
	}
	return t, nil
}

// Write appends to the file.
func (t *TempFile) Write(b []byte) (int, error) {
	n, err := t.File.Write(b)
	t.size += int64(n)
	return n, err
}

// Size is the number of bytes written.
func (t *TempFile) Size() int64 { return t.size }

// Discard closes and removes the file.
func (t *TempFile) Discard() error {
	err := t.File.Close()
	if t.path != "" {
		if rerr := os.Remove(t.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
			err = rerr
		}
		t.path = ""
	}
	if errors.Is(err, os.ErrClosed) {
		err = nil
	}
	return err
}
