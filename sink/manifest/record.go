package manifest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ddblake/ddblake/sink"
)

// Record is the compaction record of one partition: every claim
// compaction made there, in the order made. It only grows, and a
// source, once claimed, stays claimed: its rows live in the claim's
// output from the moment the manifest lists the output.
type Record struct {
	Claims []Claim `json:"claims"`
}

// Claim is one compacted file and the files it replaces.
type Claim struct {
	// Output is the key of the compacted file.
	Output string `json:"output"`
	// Sources are the keys of the files whose rows Output holds, in the
	// order of its rows.
	Sources []string `json:"sources"`
	// Claimed is when the claim was made, before Output was written.
	Claimed time.Time `json:"claimed"`
	// Switched is when the manifest was seen listing Output instead of
	// the sources; zero while the claim is pending.
	Switched time.Time `json:"switched,omitzero"`
	// Deleted is set once the sources were deleted.
	Deleted bool `json:"deleted,omitempty"`
}

// Replaced returns the set of every claimed source.
func (r *Record) Replaced() map[string]bool {
	out := map[string]bool{}
	if r == nil {
		return out
	}
	for _, c := range r.Claims {
		for _, s := range c.Sources {
			out[s] = true
		}
	}
	return out
}

// Clone returns a deep copy of r.
func (r *Record) Clone() *Record {
	out := &Record{Claims: make([]Claim, len(r.Claims))}
	for i, c := range r.Claims {
		c.Sources = slices.Clone(c.Sources)
		out.Claims[i] = c
	}
	return out
}

// ReadRecord reads the compaction record of partition p of table with its
// version for PutIf; a partition never compacted has an empty record
// (version "").
func ReadRecord(ctx context.Context, store sink.Store, table string, p sink.Partition) (*Record, string, error) {
	key, err := RecordKey(table, p)
	if err != nil {
		return nil, "", err
	}
	data, version, err := store.GetVersion(ctx, key)
	if errors.Is(err, sink.ErrNotExist) {
		return &Record{}, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("compaction record of %s %s: %w", table, p, err)
	}
	var rec Record
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, "", fmt.Errorf("%w: %s: %v", ErrBadManifest, key, err)
	}
	dir := PartitionDir(table, p)
	for i, c := range rec.Claims {
		if err := checkDataKey(c.Output, dir); err != nil || !IsCompacted(c.Output) {
			return nil, "", fmt.Errorf("%w: %s: claim %d: output %q is not a compacted file of the partition", ErrBadManifest, key, i, c.Output)
		}
		for _, s := range c.Sources {
			if err := checkDataKey(s, dir); err != nil {
				return nil, "", fmt.Errorf("%w: %s: claim %d: %v", ErrBadManifest, key, i, err)
			}
		}
	}
	return &rec, version, nil
}

// UpdateRecord is the record's compare-and-swap (see Update): change gets
// a copy of the stored record and returns the record to store, or nil to
// write nothing. It returns the record stored in the end.
func UpdateRecord(ctx context.Context, store sink.Store, table string, p sink.Partition, change func(rec *Record) (*Record, error)) (*Record, error) {
	key, err := RecordKey(table, p)
	if err != nil {
		return nil, err
	}
	for attempt := 0; attempt < DefaultAttempts; attempt++ {
		rec, version, err := ReadRecord(ctx, store, table, p)
		if err != nil {
			return nil, err
		}
		next, err := change(rec.Clone())
		if err != nil {
			return nil, err
		}
		if next == nil {
			return rec, nil
		}
		data, err := json.MarshalIndent(next, "", "  ")
		if err != nil {
			return nil, err
		}
		data = append(data, '\n')
		if _, err := store.PutIf(ctx, key, data, version); err != nil {
			if !errors.Is(err, sink.ErrPrecondition) {
				return nil, fmt.Errorf("compaction record of %s %s: %w", table, p, err)
			}
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return nil, err
			}
			continue
		}
		return next, nil
	}
	return nil, fmt.Errorf("%w: compaction record of %s %s after %d attempts", sink.ErrContention, table, p, DefaultAttempts)
}
