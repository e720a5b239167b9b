package manifest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
)

// PartitionFiles is what one listing of a table's folder shows of one
// partition.
type PartitionFiles struct {
	Partition sink.Partition
	// Files are the Parquet files directly in the partition's folder (the
	// writers' files), by key.
	Files []sink.Object
	// Compacted are the files in its compacted folder, by key.
	Compacted []sink.Object
	// Manifest is set when the partition has a manifest.
	Manifest bool
}

// Scan lists a table's folder once and returns its partitions in order,
// each with the objects found there. Objects that are not where the
// layout puts data files or manifests are left out.
func Scan(ctx context.Context, store sink.Store, table string) ([]PartitionFiles, error) {
	prefix, err := sink.TablePrefix(table)
	if err != nil {
		return nil, err
	}
	objs, err := store.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	byPart := map[sink.Partition]*PartitionFiles{}
	get := func(p sink.Partition) *PartitionFiles {
		pf, ok := byPart[p]
		if !ok {
			pf = &PartitionFiles{Partition: p}
			byPart[p] = pf
		}
		return pf
	}
	for _, o := range objs {
		rest := strings.TrimPrefix(o.Key, prefix)
		if m, ok := strings.CutPrefix(rest, Dir+"/"); ok {
			ppath, ok := strings.CutSuffix(m, "/"+Name)
			if p, ok2 := ParsePartition(ppath); ok && ok2 {
				get(p).Manifest = true
			}
			continue
		}
		dir, name := rest, ""
		if i := strings.LastIndexByte(rest, '/'); i >= 0 {
			dir, name = rest[:i], rest[i+1:]
		}
		if !strings.HasSuffix(name, ".parquet") {
			continue
		}
		compacted := false
		if d, ok := strings.CutSuffix(dir, "/"+CompactedDir); ok {
			dir, compacted = d, true
		}
		p, ok := ParsePartition(dir)
		if !ok {
			continue
		}
		pf := get(p)
		if compacted {
			pf.Compacted = append(pf.Compacted, o)
		} else {
			pf.Files = append(pf.Files, o)
		}
	}
	out := make([]PartitionFiles, 0, len(byPart))
	for _, pf := range byPart {
		out = append(out, *pf)
	}
	slices.SortFunc(out, func(a, b PartitionFiles) int { return ComparePartitions(a.Partition, b.Partition) })
	return out, nil
}

// ParsePartition reads a partition folder path, "dt=YYYY-MM-DD" or
// "dt=YYYY-MM-DD/hr=HH", as sink.Partition.Path writes it.
func ParsePartition(path string) (sink.Partition, bool) {
	day, hour, hourly := strings.Cut(path, "/")
	d, ok := strings.CutPrefix(day, schemas.PartitionDay+"=")
	if !ok {
		return sink.Partition{}, false
	}
	p := sink.Partition{Day: d}
	if hourly {
		if p.Hour, ok = strings.CutPrefix(hour, schemas.PartitionHour+"="); !ok || p.Hour == "" {
			return sink.Partition{}, false
		}
	}
	if p.Validate() != nil || p.Path() != path {
		return sink.Partition{}, false
	}
	return p, true
}

// ComparePartitions orders partitions by day, then hour.
func ComparePartitions(a, b sink.Partition) int {
	return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(a.Hour, b.Hour))
}

// Files returns the keys of every data file the manifests of a table's
// partitions list, by partition then key: what a query of the table
// reads. unlisted counts the Parquet files of the table's partition
// folders that no manifest lists (files not delivered yet, or delivered
// by a writer that does not list, such as Firehose: ddblake compact lists
// them) and that no compaction replaced.
func Files(ctx context.Context, store sink.Store, table string) (keys []string, unlisted int, err error) {
	parts, err := Scan(ctx, store, table)
	if err != nil {
		return nil, 0, err
	}
	for _, pf := range parts {
		l, err := Read(ctx, store, table, pf.Partition)
		if err != nil {
			return nil, 0, err
		}
		keys = append(keys, l.Keys...)
		var replaced map[string]bool
		for _, o := range pf.Files {
			if _, ok := slices.BinarySearch(l.Keys, o.Key); ok {
				continue
			}
			if replaced == nil {
				rec, _, err := ReadRecord(ctx, store, table, pf.Partition)
				if err != nil {
					return nil, 0, err
				}
				replaced = rec.Replaced()
			}
			if !replaced[o.Key] {
				unlisted++
			}
		}
	}
	return keys, unlisted, nil
}
