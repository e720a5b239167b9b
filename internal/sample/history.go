package sample

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"
)

// WriteLambdaHistory writes the whole history of the configuration (every
// day, both tables) as the DynamoDB stream Lambda events a stream-triggered
// function receives: one shard's records per event, at most batch records
// each, as lambda/<table>/shard-<n>/<nnnnn>.json. Replaying the files one
// by one writes the lake a Lambda would have written, one small file per
// event and partition. dir must be absent or empty (ErrDirNotEmpty); batch
// must be 1 to MaxLambdaRecords (ErrBadConfig). It returns the files in
// path order.
func (g *Generator) WriteLambdaHistory(ctx context.Context, dir string, batch int) ([]File, error) {
	if batch < 1 || batch > MaxLambdaRecords {
		return nil, fmt.Errorf("%w: batch of %d records (want 1..%d)", ErrBadConfig, batch, MaxLambdaRecords)
	}
	entries, err := os.ReadDir(dir)
	switch {
	case err == nil && len(entries) > 0:
		return nil, fmt.Errorf("%w: %s", ErrDirNotEmpty, dir)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	cs := g.history()
	names := newRnd(g.cfg.Seed, streamNames)
	recs := sequence(names, newTableStreams(names), cs)
	from := g.cfg.Start
	to := from.Add(time.Duration(g.cfg.Days) * 24 * time.Hour)
	var files []File
	add := func(f File, err error) error {
		if err == nil {
			files = append(files, f)
		}
		if err == nil {
			err = ctx.Err()
		}
		return err
	}
	if err := g.writeLambdaFiles(dirSink{root: dir}, recs, from, to, batch, 5, add); err != nil {
		return nil, err
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return files, nil
}
