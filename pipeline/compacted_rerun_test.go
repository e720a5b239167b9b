package pipeline

import (
	"context"
	"testing"

	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/compact"
	"github.com/ddblake/ddblake/sink/localstore"
	"github.com/stretchr/testify/require"
)

// TestRerunOverCompactedPartitions: a compaction holds the rows of the
// files it replaced, so a rerun of the same inputs, with the sizes of the
// first run or with others, lists every row once: with other sizes, an
// input some of whose files a compaction replaced keeps its listing in
// that partition.
func TestRerunOverCompactedPartitions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inputs := rerunInputs(t, t.TempDir(), 2, 80)
	fresh := t.TempDir()
	require.Empty(t, replayAssembled(t, ctx, fresh, sizedFiles(1<<20), 3<<10, 2, nil, nil, inputs...).WriteErrors)
	wantRows, _, _ := lakeListing(t, fresh)

	for _, again := range []struct {
		name   string
		target ByteSize
	}{
		{"the same sizes", 1 << 20},
		{"smaller files", 1 << 10},
		{"larger files", 2 << 20},
	} {
		if testing.Short() && again.name != "smaller files" {
			continue // the others as in TestAssembledRerunWithOtherSizes
		}
		lake := t.TempDir()
		require.Empty(t, replayAssembled(t, ctx, lake, sizedFiles(1<<20), 3<<10, 2, nil, nil, inputs...).WriteErrors)
		st, err := localstore.New(lake)
		require.NoError(t, err)
		sum, err := compact.Run(ctx, st, compact.Options{Force: true, Grace: -1,
			Parquet: func(string) sink.ParquetOptions { return sink.ParquetOptions{FileBytes: 4 << 20} }})
		require.NoError(t, err)
		require.Positive(t, sum.Outputs, "the inputs' files of a partition are joined")
		rows, _, _ := lakeListing(t, lake)
		require.Equal(t, wantRows, rows, "compacted")

		require.Empty(t, replayAssembled(t, ctx, lake, sizedFiles(again.target), 3<<10, 2, nil, nil, inputs...).WriteErrors)
		rows, _, _ = lakeListing(t, lake)
		require.Equal(t, wantRows, rows, "%s over the compacted lake: each row listed once", again.name)
	}
}

// sizedFiles is smallFiles with every table's target file size target.
func sizedFiles(target ByteSize) *Config {
	c := smallFiles()
	c.Defaults.TargetFileSize = target
	room := c.Tables["chat-rooms"]
	room.TargetFileSize = target
	c.Tables["chat-rooms"] = room
	return c
}
