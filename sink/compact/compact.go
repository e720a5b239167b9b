package compact

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/manifest"
	"github.com/ddblake/ddblake/sink/rewrite"
)

// Defaults of Options.
const (
	// DefaultSettle is how long after its end a partition is taken to be
	// closed: a DynamoDB stream keeps records 24 hours, and the Lambda
	// retries a batch until its records are that old.
	DefaultSettle = 26 * time.Hour
	// DefaultGrace is how long replaced files are kept after the manifest
	// stopped listing them.
	DefaultGrace = time.Hour
)

// Options choose what a run compacts and how.
type Options struct {
	// Tables are the lake tables to work on; empty means every table of
	// the registry.
	Tables []string
	// From and To bound the partitions by day, YYYY-MM-DD, both included;
	// empty is unbounded.
	From, To string
	// Settle is how long after its end a partition is closed (default
	// DefaultSettle). Open partitions are listed, not compacted.
	Settle time.Duration
	// Force compacts open partitions too.
	Force bool
	// Grace is how long replaced files are kept once no longer listed
	// (default DefaultGrace; negative deletes them at once).
	Grace time.Duration
	// Parquet gives the file options of a table: FileBytes is the target
	// size (default sink.DefaultFileBytes), Compression the codec.
	Parquet func(table string) sink.ParquetOptions
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Settle == 0 {
		o.Settle = DefaultSettle
	}
	if o.Grace == 0 {
		o.Grace = DefaultGrace
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Parquet == nil {
		o.Parquet = func(string) sink.ParquetOptions { return sink.ParquetOptions{} }
	}
	return o
}

// Validate checks the day bounds and the durations.
func (o Options) Validate() error {
	for _, d := range []string{o.From, o.To} {
		if d == "" {
			continue
		}
		if err := (sink.Partition{Day: d}).Validate(); err != nil {
			return fmt.Errorf("%w: %v", ErrBadOptions, err)
		}
	}
	if o.From != "" && o.To != "" && o.From > o.To {
		return fmt.Errorf("%w: from %s is after to %s", ErrBadOptions, o.From, o.To)
	}
	if o.Settle < 0 {
		return fmt.Errorf("%w: negative settle time", ErrBadOptions)
	}
	for _, t := range o.Tables {
		if err := sink.ValidateTable(t); err != nil {
			return fmt.Errorf("%w: %v", ErrBadOptions, err)
		}
	}
	return nil
}

// Summary is what a run did.
type Summary struct {
	// Tables and Partitions count what was looked at.
	Tables, Partitions int
	// Open counts partitions left uncompacted because they may still
	// receive writes.
	Open int
	// Compacted counts the partitions where files were replaced.
	Compacted int
	// FilesBefore and BytesBefore are the files the compacted partitions'
	// manifests listed before the run, FilesAfter and BytesAfter after.
	FilesBefore, FilesAfter int
	BytesBefore, BytesAfter int64
	// Outputs counts the files written.
	Outputs int
	// Listed counts files added to manifests that did not list them.
	Listed int
	// Deleted counts replaced files deleted.
	Deleted int
	// Errors holds one error per partition that could not be finished;
	// the others are done.
	Errors []error
}

// Run compacts the lake in store. It fails only when the tables cannot be
// listed; a partition that fails is reported in Summary.Errors and the
// run goes on.
func Run(ctx context.Context, store sink.Store, o Options) (Summary, error) {
	if err := o.Validate(); err != nil {
		return Summary{}, err
	}
	o = o.withDefaults()
	tables := o.Tables
	if len(tables) == 0 {
		var err error
		if tables, err = sink.NewRegistry(store).Tables(ctx); err != nil {
			return Summary{}, err
		}
	}
	var sum Summary
	for _, table := range tables {
		parts, err := manifest.Scan(ctx, store, table)
		if err != nil {
			return sum, err
		}
		sum.Tables++
		for _, pf := range parts {
			if (o.From != "" && pf.Partition.Day < o.From) || (o.To != "" && pf.Partition.Day > o.To) {
				continue
			}
			if err := ctx.Err(); err != nil {
				return sum, err
			}
			sum.Partitions++
			c := &partition{store: store, o: o, table: table, pf: pf, sum: &sum}
			if err := c.run(ctx); err != nil {
				sum.Errors = append(sum.Errors, fmt.Errorf("%s %s: %w", table, pf.Partition, err))
			}
		}
	}
	return sum, nil
}

// Closed reports whether partition p may no longer receive writes at now:
// its end (the midnight after its day, or the end of its hour) is settle
// ago.
func Closed(p sink.Partition, now time.Time, settle time.Duration) bool {
	day, err := time.Parse(time.DateOnly, p.Day)
	if err != nil {
		return false
	}
	end := day.Add(24 * time.Hour)
	if p.Hour != "" {
		h, err := strconv.Atoi(p.Hour)
		if err != nil {
			return false
		}
		end = day.Add(time.Duration(h+1) * time.Hour)
	}
	return !now.Before(end.Add(settle))
}

// partition is the work on one partition.
type partition struct {
	store sink.Store
	o     Options
	table string
	pf    manifest.PartitionFiles
	sum   *Summary

	sizes map[string]int64 // object sizes, by key
	rec   *manifest.Record
}

func (c *partition) p() sink.Partition { return c.pf.Partition }

func (c *partition) run(ctx context.Context) error {
	c.sizes = map[string]int64{}
	for _, o := range c.pf.Files {
		c.sizes[o.Key] = o.Size
	}
	for _, o := range c.pf.Compacted {
		c.sizes[o.Key] = o.Size
	}
	rec, _, err := manifest.ReadRecord(ctx, c.store, c.table, c.p())
	if err != nil {
		return err
	}
	c.rec = rec
	if err := c.list(ctx); err != nil {
		return err
	}
	if err := c.resume(ctx); err != nil {
		return err
	}
	closed := Closed(c.p(), c.o.Now(), c.o.Settle)
	if !closed {
		c.sum.Open++
	}
	if closed || c.o.Force {
		if err := c.compact(ctx); err != nil {
			return err
		}
	}
	return c.deleteReplaced(ctx)
}

// list adds the folder's files that no manifest lists and no claim names,
// and writes a manifest of another root again.
func (c *partition) list(ctx context.Context) error {
	replaced := c.rec.Replaced()
	var files []string
	for _, o := range c.pf.Files {
		if !replaced[o.Key] {
			files = append(files, o.Key)
		}
	}
	if len(files) == 0 && !c.pf.Manifest {
		return nil
	}
	n, err := manifest.Add(ctx, c.store, c.table, c.p(), files)
	if err != nil {
		return err
	}
	c.sum.Listed += n
	return nil
}

// resume finishes the claims a killed run left pending.
func (c *partition) resume(ctx context.Context) error {
	for _, cl := range c.rec.Claims {
		if !cl.Switched.IsZero() {
			continue
		}
		l, err := manifest.Read(ctx, c.store, c.table, c.p())
		if err != nil {
			return err
		}
		if _, ok := slices.BinarySearch(l.Keys, cl.Output); ok {
			// Switched; the run stopped before noting it.
			if err := c.markSwitched(ctx, cl.Output); err != nil {
				return err
			}
			continue
		}
		if err := c.writeOutput(ctx, cl.Output, cl.Sources); err != nil {
			return err
		}
		if err := c.switchTo(ctx, cl.Output, cl.Sources); err != nil {
			return err
		}
	}
	return nil
}

// compact replaces the partition's small files until no two of them fit
// in one file of the target size. Each round plans groups over the
// manifest as it is, claims them all in one write of the record (so a
// run killed later is finished by the next one as planned), then writes
// and switches each; merged files are smaller than the files they
// replace, so the next round may merge the outputs again.
//
// A group is a run of small files (under 3/4 of the target), at most the
// target size in all, cut also where a file's columns conflict with the
// group's: the small compacted files first, then the writers' files,
// each in key order. Groups of one file are left alone, so a run over a
// partition it already compacted, with no new file, does nothing.
func (c *partition) compact(ctx context.Context) error {
	opts := c.o.Parquet(c.table)
	target := opts.FileBytes
	if target <= 0 {
		target = sink.DefaultFileBytes
	}
	first, err := manifest.Read(ctx, c.store, c.table, c.p())
	if err != nil {
		return err
	}
	rounds := 0
	for ; rounds < maxRounds; rounds++ {
		l, err := manifest.Read(ctx, c.store, c.table, c.p())
		if err != nil {
			return err
		}
		claimed := c.rec.Replaced()
		var compacted, written []string
		for _, k := range l.Keys {
			size, ok := c.sizes[k]
			switch {
			case !ok, claimed[k], size*4 >= target*3:
				// Listed since the folder was listed (the next run sees
				// it), claimed, or big enough.
			case manifest.IsCompacted(k):
				compacted = append(compacted, k)
			default:
				written = append(written, k)
			}
		}
		groups, err := c.plan(ctx, append(compacted, written...), target)
		if err != nil {
			return err
		}
		if len(groups) == 0 {
			break
		}
		var claims []manifest.Claim
		rec, err := manifest.UpdateRecord(ctx, c.store, c.table, c.p(), func(r *manifest.Record) (*manifest.Record, error) {
			claims = claims[:0]
			replaced := r.Replaced()
			now := c.o.Now().UTC()
		next:
			for _, g := range groups {
				for _, s := range g {
					if replaced[s] {
						continue next // another run claimed it meanwhile
					}
				}
				claims = append(claims, manifest.Claim{Output: outputKey(c.table, c.p(), g), Sources: g, Claimed: now})
			}
			if len(claims) == 0 {
				return nil, nil
			}
			r.Claims = append(r.Claims, claims...)
			return r, nil
		})
		if err != nil {
			return err
		}
		c.rec = rec
		if len(claims) == 0 {
			break
		}
		for _, cl := range claims {
			if err := c.writeOutput(ctx, cl.Output, cl.Sources); err != nil {
				return err
			}
			if err := c.switchTo(ctx, cl.Output, cl.Sources); err != nil {
				return err
			}
		}
	}
	if rounds == 0 {
		return nil
	}
	after, err := manifest.Read(ctx, c.store, c.table, c.p())
	if err != nil {
		return err
	}
	c.sum.Compacted++
	c.sum.FilesBefore += len(first.Keys)
	c.sum.FilesAfter += len(after.Keys)
	for _, k := range first.Keys {
		c.sum.BytesBefore += c.sizes[k]
	}
	for _, k := range after.Keys {
		c.sum.BytesAfter += c.sizes[k]
	}
	return nil
}

// maxRounds bounds the rounds of one partition's compaction; each round
// replaces at least two files by one, so it is never reached unless the
// outputs grow.
const maxRounds = 64

// plan cuts keys, in order, into groups of two files or more (see
// compact); it reads each file's schema, one file at a time.
func (c *partition) plan(ctx context.Context, keys []string, target int64) ([][]string, error) {
	var groups [][]string
	var group []string
	var groupBytes int64
	fields := rewrite.NewFields()
	closeGroup := func() {
		if len(group) >= 2 {
			groups = append(groups, group)
		}
		group, groupBytes, fields = nil, 0, rewrite.NewFields()
	}
	for _, key := range keys {
		size := c.sizes[key]
		if len(group) > 0 && groupBytes+size > target {
			closeGroup()
		}
		body, err := c.store.Get(ctx, key)
		if err != nil {
			return nil, err
		}
		f, err := rewrite.Open(key, body)
		if err != nil {
			return nil, err
		}
		if err := fields.Add(f); err != nil {
			if !errors.Is(err, rewrite.ErrConflict) {
				return nil, err
			}
			closeGroup()
			if err := fields.Add(f); err != nil {
				return nil, err
			}
		}
		group = append(group, key)
		groupBytes += size
	}
	closeGroup()
	return groups, nil
}

// writeOutput writes the output of a claim from its sources, unless it
// exists (a run killed after writing it).
func (c *partition) writeOutput(ctx context.Context, output string, sources []string) error {
	if _, ok := c.sizes[output]; ok {
		return nil
	}
	files := make([]*rewrite.File, len(sources))
	for i, s := range sources {
		body, err := c.store.Get(ctx, s)
		if err != nil {
			return fmt.Errorf("pending claim of %s: %w", output, err)
		}
		if files[i], err = rewrite.Open(s, body); err != nil {
			return err
		}
	}
	body, _, err := rewrite.Merge(files, rewrite.Options{ParquetOptions: c.o.Parquet(c.table), Keep: metadataNames()})
	if err != nil {
		return err
	}
	if err := c.store.Put(ctx, output, body); err != nil {
		return err
	}
	c.sizes[output] = int64(len(body))
	c.sum.Outputs++
	return nil
}

// switchTo replaces sources by output in the manifest, in one write, and
// notes it in the record.
func (c *partition) switchTo(ctx context.Context, output string, sources []string) error {
	err := manifest.Update(ctx, c.store, c.table, c.p(), func(keys []string) ([]string, bool, error) {
		if _, ok := slices.BinarySearch(keys, output); ok {
			return nil, false, nil
		}
		next := keys[:0:0]
		gone := 0
		for _, k := range keys {
			if slices.Contains(sources, k) {
				gone++
				continue
			}
			next = append(next, k)
		}
		if gone != len(sources) {
			return nil, false, fmt.Errorf("claim of %s: %d of its %d files are no longer listed", output, len(sources)-gone, len(sources))
		}
		return append(next, output), true, nil
	})
	if err != nil {
		return err
	}
	return c.markSwitched(ctx, output)
}

func (c *partition) markSwitched(ctx context.Context, output string) error {
	now := c.o.Now().UTC()
	rec, err := manifest.UpdateRecord(ctx, c.store, c.table, c.p(), func(r *manifest.Record) (*manifest.Record, error) {
		for i := range r.Claims {
			if r.Claims[i].Output == output && r.Claims[i].Switched.IsZero() {
				r.Claims[i].Switched = now
				return r, nil
			}
		}
		return nil, nil
	})
	if err != nil {
		return err
	}
	c.rec = rec
	return nil
}

// deleteReplaced deletes the sources of claims switched Grace ago, and
// files written again after their deletion (a rerun of the writer).
func (c *partition) deleteReplaced(ctx context.Context) error {
	now := c.o.Now()
	var due []string
	gone := map[string]bool{}
	for _, cl := range c.rec.Claims {
		switch {
		case cl.Switched.IsZero():
		case cl.Deleted:
			for _, s := range cl.Sources {
				gone[s] = true
			}
		case c.o.Grace < 0 || now.Sub(cl.Switched) >= c.o.Grace:
			due = append(due, cl.Output)
		}
	}
	for _, o := range c.pf.Files {
		if gone[o.Key] {
			if err := c.store.Delete(ctx, o.Key); err != nil {
				return err
			}
			c.sum.Deleted++
		}
	}
	if len(due) == 0 {
		return nil
	}
	for _, cl := range c.rec.Claims {
		if !slices.Contains(due, cl.Output) {
			continue
		}
		for _, s := range cl.Sources {
			if _, ok := c.sizes[s]; !ok {
				continue
			}
			if err := c.store.Delete(ctx, s); err != nil {
				return err
			}
			c.sum.Deleted++
		}
	}
	rec, err := manifest.UpdateRecord(ctx, c.store, c.table, c.p(), func(r *manifest.Record) (*manifest.Record, error) {
		for i := range r.Claims {
			if slices.Contains(due, r.Claims[i].Output) {
				r.Claims[i].Deleted = true
			}
		}
		return r, nil
	})
	if err != nil {
		return err
	}
	c.rec = rec
	return nil
}

// outputKey names the compacted file of a group of sources: a hash of
// their keys, so the same group always gives the same name.
func outputKey(table string, p sink.Partition, sources []string) string {
	h := sha256.Sum256([]byte(strings.Join(sources, "\n")))
	return manifest.PartitionDir(table, p) + manifest.CompactedDir + "/c-" + hex.EncodeToString(h[:12]) + ".parquet"
}

func metadataNames() []string {
	var out []string
	for _, c := range schemas.MetadataColumns() {
		out = append(out, c.Name)
	}
	return out
}
