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

// The store's own files live in a hidden folder at the root, which no key
// can name (keys have no segment starting with '.'), no lake reader
// looks in (they read <table>/**/*.parquet) and List skips.
const (
	// PrivateDir is the store's folder under the root.
	PrivateDir = ".ddblake"
	// tmpDir holds the files being written, renamed into place when
	// complete; a writer holds a lock on its file until then.
	tmpDir = PrivateDir + "/tmp"
	// locksDir holds the lock files of PutIf, removed by their holder.
	locksDir = PrivateDir + "/locks"
)

// New returns a Store rooted at dir, creating the directory if needed,
// and removes what writers that died (kill -9, a crash, a power cut) left
// in its private folder: temporary files no process holds a lock on (see
// RemoveStale).
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
	s := &Store{dir: abs}
	_, _ = s.RemoveStale() // best effort: a read-only lake keeps them
	return s, nil
}

// RemoveStale removes the temporary and lock files of writers that are
// gone, and returns how many it removed. A file is stale when no process
// holds its lock (a flock, which the kernel drops when its holder dies):
// the files of a write in progress, in this process or another, are
// never removed. Where flock is not available, nothing is removed.
func (s *Store) RemoveStale() (int, error) {
	root, err := os.OpenRoot(s.dir)
	if err != nil {
		return 0, err
	}
	defer root.Close()
	removed := 0
	var errs []error
	for _, dir := range []string{tmpDir, locksDir} {
		entries, err := fs.ReadDir(root.FS(), dir)
		if err != nil {
			if !missing(err) {
				errs = append(errs, err)
			}
			continue
		}
		for _, e := range entries {
			if !e.Type().IsRegular() {
				continue
			}
			ok, err := removeUnlocked(root, path.Join(dir, e.Name()))
			if err != nil {
				errs = append(errs, err)
			}
			if ok {
				removed++
			}
		}
	}
	return removed, errors.Join(errs...)
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

// replace writes body to key atomically: a temporary file in tmpDir,
// locked while it exists so that RemoveStale leaves it alone, fsync,
// rename over key, fsync of key's directory. The temporary file is on
// the lake's file system (under its root), so the rename is atomic.
func replace(root *os.Root, key string, body []byte) error {
	dir := path.Dir(key)
	if dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	f, tmp, err := createTemp(root, path.Base(key))
	if err != nil {
		return err
	}
	_, err = f.Write(body)
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = root.Rename(tmp, key)
	}
	if err != nil {
		_ = root.Remove(tmp)
	}
	if cerr := f.Close(); err == nil { // releases the lock, after the rename
		err = cerr
	}
	if err != nil {
		return err
	}
	return syncDir(root, dir)
}

// createTemp creates a new temporary file in tmpDir, named after base for
// whoever looks, and locks it. The lock is taken after the file exists:
// RemoveStale may remove the file in between, so it checks that the name
// still is its file and starts again when it is not.
func createTemp(root *os.Root, base string) (*os.File, string, error) {
	if err := root.MkdirAll(tmpDir, 0o755); err != nil {
		return nil, "", err
	}
	if len(base) > 64 {
		base = base[:64]
	}
	for attempt := 0; ; attempt++ {
		var rnd [8]byte
		_, _ = rand.Read(rnd[:])
		// Named after the object for whoever looks, but never ending in
		// .parquet: a glob of the whole lake must not read it.
		name := path.Join(tmpDir, hex.EncodeToString(rnd[:])+"-"+base+".tmp")
		f, err := root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return nil, "", err
		}
		ok, err := tryLock(f)
		if err == nil && ok {
			if ok, err = sameFile(root, name, f); ok {
				return f, name, nil
			}
		}
		_ = f.Close()
		if err != nil || attempt >= 100 {
			if err == nil {
				err = errors.New("temporary files keep being removed")
			}
			return nil, "", fmt.Errorf("temporary file: %w", err)
		}
	}
}

// sameFile reports whether name still names the file f.
func sameFile(root *os.Root, name string, f *os.File) (bool, error) {
	held, err := f.Stat()
	if err != nil {
		return false, err
	}
	st, err := root.Lstat(name)
	if err != nil {
		if missing(err) {
			return false, nil
		}
		return false, err
	}
	return os.SameFile(held, st), nil
}

// removeUnlocked removes the file name when no process holds its lock,
// holding the lock itself while it checks that name is still that file.
func removeUnlocked(root *os.Root, name string) (bool, error) {
	f, err := root.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		if missing(err) {
			return false, nil // renamed or removed meanwhile
		}
		return false, err
	}
	defer f.Close()
	ok, err := tryLock(f)
	if err != nil || !ok {
		return false, err
	}
	if ok, err := sameFile(root, name, f); err != nil || !ok {
		return false, err
	}
	if err := root.Remove(name); err != nil && !missing(err) {
		return false, err
	}
	return true, nil
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

// lockName is the lock file of key in locksDir: a hash of the key, so that
// any key, however long, has one.
func lockName(key string) string {
	sum := sha256.Sum256([]byte(key))
	return path.Join(locksDir, hex.EncodeToString(sum[:16])+".lock")
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
	unlock, err := lock(ctx, root, lockName(key))
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

var _ sink.SpoolStore = (*Store)(nil)

// CreateSpool returns a spool for key: a locked temporary file in the
// store's private folder, renamed over key by Put (so the object is never
// copied), removed by Discard, and by RemoveStale once its writer is gone.
func (s *Store) CreateSpool(key string) (sink.Spool, error) {
	root, err := s.open("put", key, false)
	if err != nil {
		return nil, err
	}
	f, tmp, err := createTemp(root, path.Base(key))
	if err != nil {
		_ = root.Close()
		return nil, &sink.KeyError{Op: "put", Key: key, Err: err}
	}
	return &spool{root: root, f: f, tmp: tmp, key: key}, nil
}

// spool is a file of the store's private folder being written for key.
type spool struct {
	root *os.Root
	f    *os.File
	tmp  string
	key  string
	done bool
}

func (s *spool) Write(b []byte) (int, error)             { return s.f.Write(b) }
func (s *spool) ReadAt(b []byte, off int64) (int, error) { return s.f.ReadAt(b, off) }

// Put syncs the file and renames it over the key, as Store.Put does.
func (s *spool) Put(ctx context.Context) error {
	if s.done {
		return &sink.KeyError{Op: "put", Key: s.key, Err: os.ErrClosed}
	}
	s.done = true
	defer s.root.Close()
	fail := func(err error) error {
		_ = s.root.Remove(s.tmp)
		_ = s.f.Close()
		return &sink.KeyError{Op: "put", Key: s.key, Err: err}
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	dir := path.Dir(s.key)
	if dir != "." {
		if err := s.root.MkdirAll(dir, 0o755); err != nil {
			return fail(err)
		}
	}
	if err := s.f.Sync(); err != nil {
		return fail(err)
	}
	if err := s.root.Rename(s.tmp, s.key); err != nil {
		return fail(err)
	}
	if err := s.f.Close(); err != nil { // releases the lock, after the rename
		return &sink.KeyError{Op: "put", Key: s.key, Err: err}
	}
	if err := syncDir(s.root, dir); err != nil {
		return &sink.KeyError{Op: "put", Key: s.key, Err: err}
	}
	return nil
}

// Discard removes the file.
func (s *spool) Discard() error {
	if s.done {
		return nil
	}
	s.done = true
	defer s.root.Close()
	err := s.root.Remove(s.tmp)
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}
