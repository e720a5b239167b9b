package localstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/ddblake/ddblake/sink"
)

// Store is a sink.Store rooted at a local directory. It is safe for
// concurrent use, also by several processes sharing the directory.
type Store struct {
	dir string
}

var _ sink.Store = (*Store)(nil)

// New returns a Store rooted at dir, creating the directory if needed.
func New(dir string) (*Store, error) {
	if dir == "" {
		return nil, fmt.Errorf("%w: empty lake directory", sink.ErrBadConfig)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("lake directory %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("lake directory: %w", err)
	}
	return &Store{dir: abs}, nil
}

// URI returns the absolute directory.
func (s *Store) URI() string { return s.dir }

// Dir returns the absolute directory (the same as URI).
func (s *Store) Dir() string { return s.dir }

func (s *Store) open(op, key string, prefix bool) (*os.Root, error) {
	check := sink.ValidateKey
	if prefix {
		check = sink.ValidatePrefix
	}
	if err := check(key); err != nil {
		return nil, &sink.KeyError{Op: op, Key: key, Err: err}
	}
	root, err := os.OpenRoot(s.dir)
	if err != nil {
		return nil, &sink.KeyError{Op: op, Key: key, Err: err}
	}
	return root, nil
}

// Put writes body to key through a synced temporary file and a rename.
func (s *Store) Put(ctx context.Context, key string, body []byte) error {
	root, err := s.open("put", key, false)
	if err != nil {
		return err
	}
	defer root.Close()
	if err := ctx.Err(); err != nil {
		return &sink.KeyError{Op: "put", Key: key, Err: err}
	}
	if err := replace(root, key, body); err != nil {
		return &sink.KeyError{Op: "put", Key: key, Err: err}
	}
	return nil
}

// replace writes body to key atomically: temporary file, fsync, rename,
// fsync of the directory.
func replace(root *os.Root, key string, body []byte) error {
	dir := path.Dir(key)
	if dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := path.Join(dir, ".tmp-"+path.Base(key)+"-"+hex.EncodeToString(rnd[:]))
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmp, key)
	}
	if err != nil {
		_ = root.Remove(tmp)
		return err
	}
	return syncDir(root, dir)
}

func syncDir(root *os.Root, dir string) error {
	d, err := root.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, errors.ErrUnsupported) {
		err = nil // some file systems cannot sync a directory
	}
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Get reads the object at key.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	root, err := s.open("get", key, false)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	data, err := read(root, key)
	if err != nil {
		return nil, &sink.KeyError{Op: "get", Key: key, Err: err}
	}
	return data, nil
}

// read reads a regular file, mapping every "nothing there" to ErrNotExist.
func read(root *os.Root, key string) ([]byte, error) {
	data, err := root.ReadFile(key)
	if err == nil {
		return data, nil
	}
	if missing(err) {
		return nil, sink.ErrNotExist
	}
	if st, serr := root.Stat(key); serr == nil && st.IsDir() {
		return nil, sink.ErrNotExist
	}
	return nil, err
}

func missing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// version is the version token of content: its SHA-256 in hex.
func version(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// GetVersion reads the object at key with its content hash as version.
func (s *Store) GetVersion(ctx context.Context, key string) ([]byte, string, error) {
	data, err := s.Get(ctx, key)
	if err != nil {
		return nil, "", err
	}
	return data, version(data), nil
}

// PutIf writes body to key if the object's content hash is ifVersion ("":
// if there is no object), holding the key's lock while it checks and
// renames.
func (s *Store) PutIf(ctx context.Context, key string, body []byte, ifVersion string) (string, error) {
	root, err := s.open("putif", key, false)
	if err != nil {
		return "", err
	}
	defer root.Close()
	fail := func(err error) (string, error) { return "", &sink.KeyError{Op: "putif", Key: key, Err: err} }
	dir := path.Dir(key)
	if dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return fail(err)
		}
	}
	unlock, err := lock(ctx, root, path.Join(dir, ".lock-"+path.Base(key)))
	if err != nil {
		return fail(err)
	}
	defer unlock()
	current, err := read(root, key)
	switch {
	case errors.Is(err, sink.ErrNotExist):
		if ifVersion != "" {
			return fail(fmt.Errorf("%w: object is gone", sink.ErrPrecondition))
		}
	case err != nil:
		return fail(err)
	case ifVersion == "":
		return fail(fmt.Errorf("%w: object exists", sink.ErrPrecondition))
	case version(current) != ifVersion:
		return fail(fmt.Errorf("%w: version is not %s", sink.ErrPrecondition, ifVersion))
	}
	if err := replace(root, key, body); err != nil {
		return fail(err)
	}
	return version(body), nil
}

// List walks the directories under prefix, skipping hidden temporary and
// lock files and anything that is not a valid key.
func (s *Store) List(ctx context.Context, prefix string) ([]sink.Object, error) {
	root, err := s.open("list", prefix, true)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	start := "."
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = prefix[:i]
	}
	var out []sink.Object
	err = fs.WalkDir(root.FS(), start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == start && missing(err) {
				return fs.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		if sink.ValidateKey(p) != nil {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if !strings.HasPrefix(p+"/", prefix) && !strings.HasPrefix(prefix, p+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasPrefix(p, prefix) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if missing(err) {
				return nil // removed while listing
			}
			return err
		}
		out = append(out, sink.Object{Key: p, Size: info.Size()})
		return nil
	})
	if err != nil {
		return nil, &sink.KeyError{Op: "list", Key: prefix, Err: err}
	}
	slices.SortFunc(out, func(a, b sink.Object) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Delete removes the object at key; a missing object is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	root, err := s.open("delete", key, false)
	if err != nil {
		return err
	}
	defer root.Close()
	st, err := root.Lstat(key)
	if err != nil {
		if missing(err) {
			return nil
		}
		return &sink.KeyError{Op: "delete", Key: key, Err: err}
	}
	if st.IsDir() {
		return nil // not an object
	}
	if err := root.Remove(key); err != nil && !missing(err) {
		return &sink.KeyError{Op: "delete", Key: key, Err: err}
	}
	return nil
}
