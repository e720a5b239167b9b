package manifest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
)

// Lake layout of the manifests.
const (
	// Dir is the folder, under a table's folder, that holds one folder
	// per partition with its manifest: the location Athena reads.
	Dir = schemas.ManifestDir
	// Name is the object name of a partition's manifest.
	Name = "manifest"
	// CompactedDir is the folder, under a partition's folder, of the
	// files compaction writes. Writers never write there, so a file there
	// is never taken for a writer's file.
	CompactedDir = "compacted"
	// RecordsPrefix holds the compaction records, one per partition.
	RecordsPrefix = sink.MetaDir + "/compaction/"
)

// DefaultAttempts bounds the read-modify-write rounds of a manifest
// update before it gives up with sink.ErrContention.
const DefaultAttempts = 50

// Key is the key of the manifest of a table partition:
// <table>/_symlink_format_manifest/<partition>/manifest.
func Key(table string, p sink.Partition) (string, error) {
	if err := check(table, p); err != nil {
		return "", err
	}
	return table + "/" + Dir + "/" + p.Path() + "/" + Name, nil
}

// TableDir is the folder of a table's manifests, <table>/_symlink_format_manifest/,
// the LOCATION of the table in Athena.
func TableDir(table string) (string, error) {
	if err := sink.ValidateTable(table); err != nil {
		return "", err
	}
	return table + "/" + Dir + "/", nil
}

// PartitionDir is the folder of a partition's data files, "<table>/dt=.../".
func PartitionDir(table string, p sink.Partition) string { return table + "/" + p.Path() + "/" }

// RecordKey is the key of the compaction record of a table partition:
// _ddblake/compaction/<table>/<partition>.json.
func RecordKey(table string, p sink.Partition) (string, error) {
	if err := check(table, p); err != nil {
		return "", err
	}
	return RecordsPrefix + table + "/" + p.Path() + ".json", nil
}

func check(table string, p sink.Partition) error {
	if err := sink.ValidateTable(table); err != nil {
		return err
	}
	return p.Validate()
}

// Root is what the lines of a store's manifests start with: the store's
// URI and a slash for an S3 lake ("s3://bucket/prefix/"), where Athena
// needs full URIs; nothing for a local lake, whose lines are keys
// relative to its root, so the lake reads the same wherever it is
// copied.
func Root(store sink.Store) string {
	uri := store.URI()
	if !strings.HasPrefix(uri, "s3://") {
		return ""
	}
	if !strings.HasSuffix(uri, "/") {
		uri += "/"
	}
	return uri
}

// Format renders a manifest: root+key per line, keys sorted and unique,
// each line ending in a newline. No keys give an empty manifest.
func Format(root string, keys []string) []byte {
	keys = sortedUnique(keys)
	var b bytes.Buffer
	for _, k := range keys {
		b.WriteString(root)
		b.WriteString(k)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func sortedUnique(keys []string) []string {
	if slices.IsSorted(keys) && len(slices.Compact(slices.Clone(keys))) == len(keys) {
		return keys
	}
	keys = slices.Clone(keys)
	slices.Sort(keys)
	return slices.Compact(keys)
}

// Parse reads the manifest of partition p of table: the keys of its data
// files, sorted. A line is root+key, or a key relative to the lake root,
// or a URI of another root (a lake copied from elsewhere, such as a local
// lake synced to S3): its key is taken from "<table>/<partition>/" on,
// and foreign reports that the manifest should be written again with the
// store's root. A line that names no Parquet file of the partition (its
// own folder or its compacted folder) fails with ErrBadManifest.
func Parse(data []byte, root, table string, p sink.Partition) (keys []string, foreign bool, err error) {
	dir := PartitionDir(table, p)
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		key := line
		switch {
		case root != "" && strings.HasPrefix(line, root):
			key = line[len(root):]
		case strings.Contains(line, "://") || strings.HasPrefix(line, "/"):
			i := strings.LastIndex(line, "/"+dir)
			if i < 0 {
				return nil, false, fmt.Errorf("%w: %s: line %d: %q is not a file of partition %s", ErrBadManifest, table, n+1, line, p)
			}
			key, foreign = line[i+1:], true
		case root != "":
			foreign = true
		}
		if err := checkDataKey(key, dir); err != nil {
			return nil, false, fmt.Errorf("%w: %s %s: line %d: %v", ErrBadManifest, table, p, n+1, err)
		}
		keys = append(keys, key)
	}
	return sortedUnique(keys), foreign, nil
}

// checkDataKey reports whether key is a Parquet file directly in dir or
// in its compacted folder.
func checkDataKey(key, dir string) error {
	if err := sink.ValidateKey(key); err != nil {
		return err
	}
	rest, ok := strings.CutPrefix(key, dir)
	if !ok || !strings.HasSuffix(rest, ".parquet") {
		return fmt.Errorf("%q is not a Parquet file of %s", key, dir)
	}
	if name, ok := strings.CutPrefix(rest, CompactedDir+"/"); ok {
		rest = name
	}
	if strings.Contains(rest, "/") {
		return fmt.Errorf("%q is below %s", key, dir)
	}
	return nil
}

// IsCompacted reports whether key is a file compaction wrote (in a
// partition's compacted folder).
func IsCompacted(key string) bool {
	i := strings.LastIndexByte(key, '/')
	return i >= 0 && strings.HasSuffix(key[:i], "/"+CompactedDir)
}

// Listing is a manifest as read: its keys, its version for PutIf ("" when
// there is none), and whether it names files under another root.
type Listing struct {
	Keys    []string
	Version string
	Exists  bool
	Foreign bool
}

// Read reads the manifest of partition p of table. A partition without
// one has no keys (Exists false).
func Read(ctx context.Context, store sink.Store, table string, p sink.Partition) (Listing, error) {
	key, err := Key(table, p)
	if err != nil {
		return Listing{}, err
	}
	data, version, err := store.GetVersion(ctx, key)
	if errors.Is(err, sink.ErrNotExist) {
		return Listing{}, nil
	}
	if err != nil {
		return Listing{}, fmt.Errorf("manifest of %s %s: %w", table, p, err)
	}
	keys, foreign, err := Parse(data, Root(store), table, p)
	if err != nil {
		return Listing{}, err
	}
	return Listing{Keys: keys, Version: version, Exists: true, Foreign: foreign}, nil
}

// Update is the manifest's compare-and-swap: it reads the manifest of
// partition p, calls change with its keys (sorted), and writes the keys
// change returns only if no other writer changed the manifest meanwhile;
// on a lost race it reads again and calls change again, so change must
// decide from its arguments alone. change returns ok false to write
// nothing. A manifest that names files under another root is written
// again with the store's root even when change changes nothing. Update
// fails with sink.ErrContention after DefaultAttempts lost races.
func Update(ctx context.Context, store sink.Store, table string, p sink.Partition, change func(keys []string) (next []string, ok bool, err error)) error {
	key, err := Key(table, p)
	if err != nil {
		return err
	}
	root := Root(store)
	for attempt := 0; attempt < DefaultAttempts; attempt++ {
		cur, err := Read(ctx, store, table, p)
		if err != nil {
			return err
		}
		next, ok, err := change(slices.Clone(cur.Keys))
		if err != nil {
			return err
		}
		if !ok {
			if !cur.Foreign {
				return nil
			}
			next = cur.Keys
		}
		body := Format(root, next)
		if _, err := store.PutIf(ctx, key, body, cur.Version); err != nil {
			if !errors.Is(err, sink.ErrPrecondition) {
				return fmt.Errorf("manifest of %s %s: %w", table, p, err)
			}
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return err
			}
			continue
		}
		return nil
	}
	return fmt.Errorf("%w: manifest of %s %s after %d attempts", sink.ErrContention, table, p, DefaultAttempts)
}

// Add adds data files of partition p to its manifest, leaving out those
// already listed and those that compaction replaced (see Record): a file
// written again after its rows moved into a compacted file stays out. It
// returns how many it added.
func Add(ctx context.Context, store sink.Store, table string, p sink.Partition, files []string) (int, error) {
	return Replace(ctx, store, table, p, files, nil)
}

// Replace adds files as Add does and, in the same manifest write, takes
// out the listed files that stale reports true for and that are not among
// files: the files of an earlier run that the files now written take the
// place of. Compacted files are never taken out. stale may be nil.
//
// A compacted file holds the rows of the files it replaced, and they
// cannot be taken out of it: when a compaction replaced a file of a
// replayed input that stale reports true for (sink.ReplayInputOf), that
// input's listing stays as it is, in this partition: none of its files is
// taken out, and none of its new files is added (a rerun that cut the
// input into other files would list its rows a second time beside the
// compacted file).
func Replace(ctx context.Context, store sink.Store, table string, p sink.Partition, files []string, stale func(key string) bool) (int, error) {
	dir := PartitionDir(table, p)
	for _, f := range files {
		if err := checkDataKey(f, dir); err != nil {
			return 0, fmt.Errorf("%w: %s %s: %v", ErrBadManifest, table, p, err)
		}
	}
	sortedFiles := sortedUnique(files)
	var (
		replaced map[string]bool
		frozen   map[string]bool // inputs a compaction holds rows of
	)
	added := 0
	err := Update(ctx, store, table, p, func(keys []string) ([]string, bool, error) {
		missing := missingFrom(keys, files)
		if replaced == nil && slices.ContainsFunc(keys, IsCompacted) && (len(missing) > 0 || stale != nil) {
			// Claims are made before the manifest changes, so a manifest
			// read after a compaction's switch sees its claims.
			rec, _, err := ReadRecord(ctx, store, table, p)
			if err != nil {
				return nil, false, err
			}
			replaced, frozen = rec.Replaced(), map[string]bool{}
			for k := range replaced {
				if stale != nil && stale(k) {
					input, _ := sink.ReplayInputOf(k)
					frozen[input] = true
				}
			}
		}
		isFrozen := func(k string) bool {
			if len(frozen) == 0 || !stale(k) {
				return false
			}
			input, _ := sink.ReplayInputOf(k)
			return frozen[input]
		}
		kept := keys
		if stale != nil {
			kept = slices.DeleteFunc(slices.Clone(keys), func(k string) bool {
				if IsCompacted(k) || !stale(k) || isFrozen(k) {
					return false
				}
				_, written := slices.BinarySearch(sortedFiles, k)
				return !written
			})
		}
		dropped := len(kept) < len(keys)
		missing = slices.DeleteFunc(missing, func(k string) bool { return replaced[k] || isFrozen(k) })
		if len(missing) == 0 && !dropped {
			return nil, false, nil
		}
		added = len(missing)
		return append(kept, missing...), true, nil
	})
	if err != nil {
		return 0, err
	}
	return added, nil
}

// missingFrom returns the files not in sorted keys, sorted and unique.
func missingFrom(keys, files []string) []string {
	var out []string
	for _, f := range sortedUnique(files) {
		if _, found := slices.BinarySearch(keys, f); !found {
			out = append(out, f)
		}
	}
	return out
}

// backoff is the wait before retry attempt+1: exponential from 2ms to
// 500ms, with full jitter so racing writers spread out.
func backoff(attempt int) time.Duration {
	ceiling := 2 * time.Millisecond << min(attempt, 8)
	return time.Duration(rand.Int64N(int64(ceiling))) + time.Millisecond
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
