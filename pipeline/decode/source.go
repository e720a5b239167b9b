package decode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ObjectInfo describes one object (file) of an ObjectReader.
type ObjectInfo struct {
	// Key is the object's slash-separated key.
	Key string
	// Size is its length in bytes.
	Size int64
	// ETag is the store's entity tag without quotes (empty for local
	// files).
	ETag string
	// ModTime is when it was last written.
	ModTime time.Time
}

// ObjectReader reads objects by key from a local directory tree or an
// object store (an S3 bucket). Keys are slash-separated; a "directory"
// dir holds the keys that start with dir + "/" (every key when dir is
// ""). Implementations report a missing object with an error wrapping
// fs.ErrNotExist.
type ObjectReader interface {
	// Open opens the object key for reading.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Stat describes the object key.
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	// List returns every object under dir, at any depth, sorted by key;
	// none (and no error) when there is no such directory.
	List(ctx context.Context, dir string) ([]ObjectInfo, error)
}

// LocalFS is the ObjectReader of the local file system. Keys are
// slash-separated paths, relative to Root (the working directory when
// Root is empty) unless absolute.
type LocalFS struct {
	Root string
}

func (l LocalFS) osPath(key string) string {
	p := filepath.FromSlash(key)
	if p == "" {
		p = "."
	}
	if l.Root != "" && !filepath.IsAbs(p) {
		p = filepath.Join(l.Root, p)
	}
	return p
}

// Open opens the file key.
func (l LocalFS) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	f, err := os.Open(l.osPath(key))
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		_ = f.Close()
		return nil, fmt.Errorf("%s: is a directory", key)
	}
	return f, nil
}

// Stat describes the file key; a directory is not an object. A file that
// is not a regular one (a pipe such as /dev/stdin or <(...), a device)
// has Size -1: its size tells one content from another no more than its
// name does.
func (l LocalFS) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	fi, err := os.Stat(l.osPath(key))
	if err != nil {
		return ObjectInfo{}, err
	}
	if fi.IsDir() {
		return ObjectInfo{}, fmt.Errorf("%s: is a directory", key)
	}
	size := fi.Size()
	if !fi.Mode().IsRegular() {
		size = -1 // a pipe (/dev/stdin, <(...)) or a device: its size tells nothing
	}
	return ObjectInfo{Key: key, Size: size, ModTime: fi.ModTime()}, nil
}

// List returns the regular files below the directory dir (following
// symbolic links to files), sorted by key.
func (l LocalFS) List(ctx context.Context, dir string) ([]ObjectInfo, error) {
	dir = strings.TrimSuffix(dir, "/")
	if dir == "." {
		dir = ""
	}
	root := l.osPath(dir)
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, nil
	}
	var out []ObjectInfo
	err := filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if de.IsDir() {
			return nil
		}
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			return nil // a dangling link, a socket...
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if dir != "" {
			key = dir + "/" + key
		}
		out = append(out, ObjectInfo{Key: key, Size: fi.Size(), ModTime: fi.ModTime()})
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// InputKind says what an Input is.
type InputKind uint8

// Input kinds.
const (
	// InputFile is one file or object, of any format but an export.
	InputFile InputKind = iota
	// InputExport is an export directory, read through its manifests.
	InputExport
	// InputStream is a stream such as stdin: it can be read once.
	InputStream
)

// Input is one thing to decode: a file or object, an export directory or
// a stream. Resolver.Resolve makes them from source arguments.
type Input struct {
	Kind InputKind
	// Name names the input in records and errors: a path, an s3:// URI,
	// or "-" for stdin. The files of an export are named Name + "/" +
	// their path inside it.
	Name string
	// Store reads the input.
	Store ObjectReader
	// Key is the object's key in Store; for an export, its directory
	// (the one holding manifest-summary.json).
	Key string
	// Size is the object's size (for an export, its manifest-summary's);
	// -1 when unknown.
	Size int64
	// ETag is the object's entity tag (for an export, its
	// manifest-summary's), when the store has them.
	ETag string
	// Files, for an export, when set, holds lines of manifest-files.json
	// that replace the export's own list: the data files to read (a
	// Distributed Map batch of the backfill). Their batches are named as
	// when the whole export is read, by data file.
	Files []byte
}

// Identity identifies the input's content for deterministic object
// names: where it lives with its ETag, else its size; just its name for
// a stream. The same file or object, unchanged, has the same identity,
// whatever name it was given: a local file is named by its absolute
// path with symbolic links resolved (a.jsonl from its folder, ./a.jsonl,
// dir/a.jsonl from the folder above and /abs/dir/a.jsonl are one file),
// an S3 object by its bucket and key.
func (in Input) Identity() string {
	name := in.Name
	if p, ok := localPath(in); ok {
		name = p
	}
	switch {
	case in.ETag != "":
		return name + "#etag=" + in.ETag
	case in.Size >= 0 && in.Kind != InputStream:
		return name + "#size=" + strconv.FormatInt(in.Size, 10)
	}
	return name
}

// StreamInput returns an Input that reads r once, named name.
func StreamInput(name string, r io.Reader) Input {
	return Input{Kind: InputStream, Name: name, Store: streamStore{r}, Key: name, Size: -1}
}

// streamStore serves one stream under any key.
type streamStore struct{ r io.Reader }

func (s streamStore) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	return io.NopCloser(s.r), nil
}

func (s streamStore) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	return ObjectInfo{Key: key, Size: -1}, nil
}

func (s streamStore) List(ctx context.Context, dir string) ([]ObjectInfo, error) { return nil, nil }

// DecodeInput decodes one input: an export directory through its
// manifests, or a file or stream with Decode.
//
// An export's summary names its table and kind (full or incremental;
// format is then ignored), and its data files are read in manifest order.
// A file's MD5 and item count, when listed, are checked before any of its
// records goes to fn: the file is read and decompressed once, its
// decompressed bytes kept in a temporary file (Options.SpoolBytes) while
// they are hashed and counted, then decoded from there; a file larger
// than the spool takes is read a second time for its records. The records
// of a file that fails a check go to fn as RecordErrors (ErrChecksum,
// ErrItemCount), to be set aside. Records name their data file and line.
//
// Errors are as for Decode; the errors of an export's files (missing,
// failed checks, corrupt) are *InputErrors joined with errors.Join after
// the other files have been read (see InputErrors).
func (d *Decoder) DecodeInput(ctx context.Context, in Input, format Format, fn RecordFunc) error {
	if in.Kind == InputExport {
		return d.decodeExport(ctx, in, fn)
	}
	if in.Store == nil {
		return inputErr(in.Name, 0, -1, -1, fmt.Errorf("%w: input has no store", ErrNoStore))
	}
	rc, err := in.Store.Open(ctx, in.Key)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("%w: %v", ErrNotFound, err)
		}
		return inputErr(in.Name, 0, -1, -1, err)
	}
	defer rc.Close()
	return d.Decode(ctx, rc, in.Name, format, fn)
}

// Resolver turns source arguments into Inputs.
type Resolver struct {
	// Local reads local paths; LocalFS{} when nil.
	Local ObjectReader
	// S3 returns the reader of a bucket, for s3://bucket/key sources;
	// when nil such sources fail with ErrNoStore.
	S3 func(ctx context.Context, bucket string) (ObjectReader, error)
	// Stdin is read for the source "-"; when nil "-" fails with
	// ErrNoStore.
	Stdin io.Reader
}

// exportSummaryName is the file whose folder is read as an export.
const exportSummaryName = "manifest-summary.json"

// Resolve returns the inputs of the sources, in order.
//
//   - "-" is Stdin;
//   - s3://bucket/key and local paths name a file or object, or a
//     directory (prefix) whose files are taken in lexical order of key;
//   - a folder holding manifest-summary.json, given or met at any depth,
//     is one InputExport, and its files are not taken again; a path to a
//     manifest-summary.json names its folder;
//   - in directories, files and folders whose names start with '.' or
//     '_' (such as an export's _started marker) are skipped.
//
// A source that does not exist fails with ErrNotFound, naming it.
func (r *Resolver) Resolve(ctx context.Context, sources ...string) ([]Input, error) {
	var out []Input
	for _, src := range sources {
		ins, err := r.resolve(ctx, src)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", src, err)
		}
		out = append(out, ins...)
	}
	return out, nil
}

func (r *Resolver) resolve(ctx context.Context, src string) ([]Input, error) {
	if src == "-" {
		if r.Stdin == nil {
			return nil, fmt.Errorf("%w: no standard input", ErrNoStore)
		}
		return []Input{StreamInput("-", r.Stdin)}, nil
	}
	if rest, ok := strings.CutPrefix(src, "s3://"); ok {
		bucket, key, _ := strings.Cut(rest, "/")
		if bucket == "" {
			return nil, fmt.Errorf("%w: no bucket in %q", ErrNotFound, src)
		}
		if r.S3 == nil {
			return nil, fmt.Errorf("%w: s3:// sources need an S3 client", ErrNoStore)
		}
		store, err := r.S3(ctx, bucket)
		if err != nil {
			return nil, err
		}
		return resolveIn(ctx, store, key, "s3://"+bucket+"/")
	}
	store := r.Local
	if store == nil {
		store = LocalFS{}
	}
	key := path.Clean(filepath.ToSlash(src))
	return resolveIn(ctx, store, key, "")
}

// resolveIn resolves key in store; names are prefix + key.
func resolveIn(ctx context.Context, store ObjectReader, key, prefix string) ([]Input, error) {
	dir := strings.TrimSuffix(key, "/")
	if dir == "." {
		dir = ""
	}
	nameOf := func(k string) string {
		if k == "" && prefix == "" {
			return "."
		}
		return prefix + k
	}
	if path.Base(key) == exportSummaryName {
		info, err := store.Stat(ctx, key)
		if err != nil {
			return nil, notFound(err)
		}
		d := exportDirOf(key)
		return []Input{{Kind: InputExport, Name: nameOf(d), Store: store, Key: d, Size: info.Size, ETag: info.ETag}}, nil
	}
	list, err := store.List(ctx, dir)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		if dir == "" && key != "" {
			return nil, fmt.Errorf("%w: %q", ErrNotFound, key)
		}
		info, err := store.Stat(ctx, key)
		if err != nil {
			return nil, notFound(err)
		}
		kind := InputFile
		if info.Size < 0 && info.ETag == "" {
			// Not a file (a pipe): no name or size tells one content
			// from another, so it is read as a stream.
			kind = InputStream
		}
		return []Input{{Kind: kind, Name: nameOf(key), Store: store, Key: key, Size: info.Size, ETag: info.ETag}}, nil
	}
	exports := map[string]ObjectInfo{}
	for _, o := range list {
		if path.Base(o.Key) == exportSummaryName {
			exports[exportDirOf(o.Key)] = o
		}
	}
	var out []Input
	emitted := map[string]bool{}
	for _, o := range list {
		if exp, ok := outermostExport(o.Key, exports); ok {
			if !emitted[exp] {
				emitted[exp] = true
				s := exports[exp]
				out = append(out, Input{Kind: InputExport, Name: nameOf(exp), Store: store, Key: exp, Size: s.Size, ETag: s.ETag})
			}
			continue
		}
		rel := strings.TrimPrefix(o.Key, dir)
		if hiddenPath(strings.TrimPrefix(rel, "/")) {
			continue
		}
		out = append(out, Input{Kind: InputFile, Name: nameOf(o.Key), Store: store, Key: o.Key, Size: o.Size, ETag: o.ETag})
	}
	return out, nil
}

// exportDirOf is the folder of a manifest-summary.json key ("" for the
// top).
func exportDirOf(summaryKey string) string {
	d := path.Dir(summaryKey)
	if d == "." || d == "/" {
		return ""
	}
	return d
}

// outermostExport returns the highest export folder holding key.
func outermostExport(key string, exports map[string]ObjectInfo) (string, bool) {
	if len(exports) == 0 {
		return "", false
	}
	found, ok := "", false
	for d := key; ; {
		nd := path.Dir(d)
		if nd == d {
			break
		}
		d = nd
		k := d
		if k == "." || k == "/" {
			k = ""
		}
		if _, is := exports[k]; is {
			found, ok = k, true
		}
		if k == "" {
			break
		}
	}
	return found, ok
}

// hiddenPath reports whether a segment of rel starts with '.' or '_'.
func hiddenPath(rel string) bool {
	for _, seg := range strings.Split(rel, "/") {
		if strings.HasPrefix(seg, ".") || strings.HasPrefix(seg, "_") {
			return true
		}
	}
	return false
}

func notFound(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	return err
}
