package firehose

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/manifest"
)

// deliveredName is the object name Firehose gives what it delivers, after
// the delivery stream's name: "-<stream version>-<YYYY-MM-DD-HH-MM-SS>-<random>",
// then the stream's file extension (.parquet in the lake). The random
// part's length (1-64) is checked apart (validDelivered): as a counted
// repetition it would compile into 64 copies of its class at every cold
// start.
var deliveredName = regexp.MustCompile(`^-[0-9]{1,9}-[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2}-([0-9A-Za-z-]+)\.parquet$`)

// validDelivered reports whether name (after the stream's name) is the
// name of a file Firehose delivered, see deliveredName.
func validDelivered(name string) bool {
	m := deliveredName.FindStringSubmatchIndex(name)
	return m != nil && m[3]-m[2] <= 64
}

// DeliveredFile reads key, relative to the lake root, as a file Firehose
// delivered through the delivery stream the template names for its
// table: <table>/dt=YYYY-MM-DD[/hr=HH]/<stream>-<version>-<time>-<id>.parquet.
// It returns the table and partition, or ok false for any other key: the
// files ddblake writes itself (listed by their writer), compacted files,
// manifests, the quarantine, Firehose's error output, a file in another
// table's folder or of another stream.
func DeliveredFile(template, key string) (table string, p sink.Partition, ok bool) {
	if sink.ValidateKey(key) != nil {
		return "", sink.Partition{}, false
	}
	table, rest, found := strings.Cut(key, "/")
	if !found || sink.ValidateTable(table) != nil {
		return "", sink.Partition{}, false
	}
	i := strings.LastIndexByte(rest, '/')
	if i < 0 {
		return "", sink.Partition{}, false
	}
	if p, ok = manifest.ParsePartition(rest[:i]); !ok {
		return "", sink.Partition{}, false
	}
	stream, err := StreamName(template, table)
	if err != nil {
		return "", sink.Partition{}, false
	}
	name, found := strings.CutPrefix(rest[i+1:], stream)
	if !found || !validDelivered(name) {
		return "", sink.Partition{}, false
	}
	return table, p, true
}

// ListDelivered lists, in their partitions' manifests, the keys (relative
// to the lake root) that are files Firehose delivered (see DeliveredFile),
// so that queries read them without waiting for ddblake compact. It
// returns the keys it took for delivered files; the others are left
// alone. A file already listed, or whose rows compaction already moved
// into a compacted file, is not listed again, so a repeated event changes
// nothing. Each manifest changes by a conditional write (manifest.Add),
// safe beside the Lambda's and compaction's own writes.
func ListDelivered(ctx context.Context, store sink.Store, template string, keys []string) ([]string, error) {
	type tablePartition struct {
		table string
		p     sink.Partition
	}
	groups := map[tablePartition][]string{}
	var order []tablePartition
	var taken []string
	for _, k := range keys {
		table, p, ok := DeliveredFile(template, k)
		if !ok {
			continue
		}
		tp := tablePartition{table, p}
		if _, seen := groups[tp]; !seen {
			order = append(order, tp)
		}
		groups[tp] = append(groups[tp], k)
		taken = append(taken, k)
	}
	for _, tp := range order {
		if _, err := manifest.Add(ctx, store, tp.table, tp.p, groups[tp]); err != nil {
			return taken, fmt.Errorf("list Firehose's files of %s %s: %w", tp.table, tp.p, err)
		}
	}
	return taken, nil
}
