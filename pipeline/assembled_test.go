package pipeline

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/internal/laketest"
	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/direct"
	"github.com/ddblake/ddblake/sink/localstore"
	"github.com/ddblake/ddblake/sink/manifest"
)

// smallFiles is a configuration whose files are 16 KiB (the
// configuration file refuses less than 1MiB), with one table partitioned
// by hour, so that inputs of a few hundred records make several files per
// partition.
func smallFiles() *Config {
	return &Config{
		Defaults: TableConfig{TargetFileSize: 16 << 10},
		Tables:   map[string]TableConfig{"chat-rooms": {TargetFileSize: 16 << 10, Partition: "hour"}},
	}
}

// replayAssembled replays sources into the lake at dir as the replay
// command does: through direct.Assembled, the files listed at the end,
// even when ctx was canceled (the interrupted run lists what it
// finished). dest, when not nil, wraps the destination.
func replayAssembled(t *testing.T, ctx context.Context, dir string, cfg *Config, chunk int64, workers int, wrap func(*direct.Assembled) sink.Destination, progress func(Progress), sources ...string) Summary {
	t.Helper()
	store, err := localstore.New(dir)
	require.NoError(t, err)
	inputs, err := (&decode.Resolver{}).Resolve(context.Background(), sources...)
	require.NoError(t, err)
	asm := direct.NewAssembled(store, direct.AssembleOptions{})
	var dest sink.Destination = asm
	if wrap != nil {
		dest = wrap(asm)
	}
	r := &Replay{
		Processor:  &Processor{Config: cfg, Schemas: NewRegistrySchemas(store), Destination: dest, Quarantine: NewLakeErrors(store)},
		Inputs:     NewLakeErrors(store),
		Workers:    workers,
		ChunkBytes: chunk,
		Progress:   progress,
	}
	sum, err := r.Run(ctx, inputs)
	require.NoError(t, err)
	require.NoError(t, asm.Flush(context.Background()))
	return sum
}

// lakeListing reads the rows of every file the manifests list, by table
// and partition, sorted, with the count and bytes of those files.
func lakeListing(t *testing.T, dir string) (rows map[string][]string, files int, size int64) {
	t.Helper()
	ctx := context.Background()
	st, err := localstore.New(dir)
	require.NoError(t, err)
	tables, err := sink.NewRegistry(st).Tables(ctx)
	require.NoError(t, err)
	rows = map[string][]string{}
	for _, table := range tables {
		parts, err := manifest.Scan(ctx, st, table)
		require.NoError(t, err)
		for _, p := range parts {
			l, err := manifest.Read(ctx, st, table, p.Partition)
			require.NoError(t, err)
			for _, k := range l.Keys {
				body, err := st.Get(ctx, k)
				require.NoError(t, err)
				key := table + "/" + p.Partition.Path()
				rows[key] = append(rows[key], laketest.RowStrings(t, body)...)
				files++
				size += int64(len(body))
			}
		}
	}
	for k := range rows {
		slices.Sort(rows[k])
	}
	return rows, files, size
}

// withoutData keeps the files of a lake that are not data or manifests:
// the registry and the quarantine.
func withoutData(files map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range files {
		if strings.HasPrefix(k, "_ddblake/") || strings.HasPrefix(k, "_errors/") {
			out[k] = v
		}
	}
	return out
}

// TestAssembledReplayHoldsThePerBatchRows replays inputs of many small
// batches (tables whose attributes come and go, one hourly, a second
// account set aside) once with a file per batch and partition and once
// joined: the lakes hold the same rows, registry and quarantine, the
// joined one in far fewer files, and its summary counts the files the
// manifests list.
func TestAssembledReplayHoldsThePerBatchRows(t *testing.T) {
	t.Parallel()
	inputs := rerunInputs(t, t.TempDir(), 3, 150)
	const chunk = 2 << 10
	perBatch := t.TempDir()
	want := replayChunked(t, perBatch, smallFiles(), chunk, inputs...)
	require.Empty(t, want.WriteErrors)
	wantRows, batchFiles, _ := lakeListing(t, perBatch)

	joined := t.TempDir()
	got := replayAssembled(t, context.Background(), joined, smallFiles(), chunk, 2, nil, nil, inputs...)
	require.Empty(t, got.WriteErrors)
	rows, files, size := lakeListing(t, joined)
	require.Equal(t, wantRows, rows)
	require.Equal(t, withoutData(laketest.Files(t, perBatch)), withoutData(laketest.Files(t, joined)))
	require.Equal(t, []int{want.Records, want.Rows, want.SetAside}, []int{got.Records, got.Rows, got.SetAside})
	require.Equal(t, want.TableRows, got.TableRows)
	require.Equal(t, want.Finished, got.Finished)
	require.Equal(t, files, got.Files, "the summary counts the files listed")
	require.Equal(t, size, got.Bytes)
	require.Less(t, files*3, batchFiles, "far fewer files: %d joined from %d", files, batchFiles)
	var hourly int
	for k := range rows {
		if strings.Contains(k, "/hr=") {
			hourly++
		}
	}
	require.Positive(t, hourly, "an hourly table")
}

// jittered delays each write by a random moment, so that batches finish
// in another order on every run.
type jittered struct {
	*direct.Assembled
	mu  sync.Mutex
	rng *rand.Rand
}

func (j *jittered) Write(ctx context.Context, batchID string, t *sink.Table, rows []flatten.Row) (sink.Delivery, error) {
	j.mu.Lock()
	d := time.Duration(j.rng.IntN(2000)) * time.Microsecond
	j.mu.Unlock()
	time.Sleep(d) // reorders the workers; nothing waits on it
	return j.Assembled.Write(ctx, batchID, t, rows)
}

// TestAssembledReplayIgnoresScheduling replays the same inputs with one
// worker, and with several whose writes are delayed at random: the lakes
// are the same bytes. -short tries one random delaying of the writes, not
// two.
func TestAssembledReplayIgnoresScheduling(t *testing.T) {
	t.Parallel()
	inputs := rerunInputs(t, t.TempDir(), 2, 150)
	first := t.TempDir()
	replayAssembled(t, context.Background(), first, smallFiles(), 2<<10, 1, nil, nil, inputs...)
	want := laketest.Files(t, first)
	seeds := uint64(2)
	if testing.Short() {
		seeds = 1
	}
	for seed := range seeds {
		dir := t.TempDir()
		wrap := func(a *direct.Assembled) sink.Destination {
			return &jittered{Assembled: a, rng: rand.New(rand.NewPCG(seed, 1))}
		}
		sum := replayAssembled(t, context.Background(), dir, smallFiles(), 2<<10, 4, wrap, nil, inputs...)
		require.Empty(t, sum.WriteErrors)
		require.Equal(t, want, laketest.Files(t, dir), "seed %d", seed)
	}
}

// TestAssembledRerunOverHalfBuiltLake stops joined replays after k
// batches (canceling them, as an interrupt does: the files finished are
// completed and listed), then reruns them to the end: every lake ends
// byte-identical to a fresh replay's, and no row is listed twice.
func TestAssembledRerunOverHalfBuiltLake(t *testing.T) {
	t.Parallel()
	inputs := rerunInputs(t, t.TempDir(), 3, 80)
	const chunk = 2 << 10
	fresh := t.TempDir()
	sum := replayAssembled(t, context.Background(), fresh, smallFiles(), chunk, 2, nil, nil, inputs...)
	require.Empty(t, sum.WriteErrors)
	want := laketest.Files(t, fresh)
	wantRows, _, _ := lakeListing(t, fresh)
	stop := func(lake string, k int) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var mu sync.Mutex
		done := 0
		replayAssembled(t, ctx, lake, smallFiles(), chunk, 2, nil, func(Progress) {
			mu.Lock()
			defer mu.Unlock()
			if done++; done == k {
				cancel()
			}
		}, inputs...)
	}
	stops := []int{2, 9, 20}
	if testing.Short() {
		stops = []int{9}
	}
	for _, k := range stops {
		lake := t.TempDir()
		stop(lake, k)
		rows, files, _ := lakeListing(t, lake)
		t.Logf("stopped after %d batches: %d files listed", k, files)
		for key, r := range rows {
			require.Subset(t, wantRows[key], r, "stopped after %d: rows listed are rows of the full replay", k)
		}
		stop(lake, k+5) // a rerun stopped too
		again := replayAssembled(t, context.Background(), lake, smallFiles(), chunk, 2, nil, nil, inputs...)
		require.Empty(t, again.WriteErrors)
		require.Equal(t, want, laketest.Files(t, lake), "stopped after %d and %d batches, then rerun", k, k+5)
	}
}

// TestAssembledReplayReportsUnwrittenFiles: a file that cannot be put
// makes a write error naming it; its rows are not counted as written and
// its inputs are not finished.
func TestAssembledReplayReportsUnwrittenFiles(t *testing.T) {
	t.Parallel()
	in := t.TempDir()
	inputs := rerunInputs(t, in, 2, 60)
	dir := t.TempDir()
	base, err := localstore.New(dir)
	require.NoError(t, err)
	store := &failingStore{Store: base, table: "chat_rooms"}
	resolved, err := (&decode.Resolver{}).Resolve(context.Background(), inputs...)
	require.NoError(t, err)
	asm := direct.NewAssembled(store, direct.AssembleOptions{})
	r := &Replay{
		Processor: &Processor{Schemas: NewRegistrySchemas(store), Destination: asm, Quarantine: NewLakeErrors(store)},
		Workers:   2, ChunkBytes: 2 << 10,
	}
	sum, err := r.Run(context.Background(), resolved)
	require.NoError(t, err)
	require.NoError(t, asm.Flush(context.Background()))
	require.NotEmpty(t, sum.WriteErrors)
	for _, e := range sum.WriteErrors {
		require.ErrorContains(t, e, "503 Slow Down")
		require.Contains(t, e.Error(), "table chat_rooms: file chat_rooms/dt=")
		require.Contains(t, e.Error(), "rows not written")
	}
	require.Zero(t, sum.TableRows["chat_rooms"])
	require.Positive(t, sum.Rows)
	require.Greater(t, sum.Records, sum.Rows+sum.SetAside, "the failed file's records are not written")
	require.Empty(t, sum.Finished, "both inputs had rows in a failed file")
	_, files, _ := lakeListing(t, dir)
	require.Equal(t, files, sum.Files)
}

// TestAssembledStdinKeepsEachContent: standard input's batches, named by
// their content, keep files of their own: the lake is the per-batch
// replay's.
func TestAssembledStdinKeepsEachContent(t *testing.T) {
	ctx := context.Background()
	data, err := os.ReadFile("../testdata/sample/lambda/chat-messages/shard-0/001.json")
	require.NoError(t, err)
	lake := func(dest func(sink.Store) sink.Destination) map[string]string {
		dir := t.TempDir()
		store, err := localstore.New(dir)
		require.NoError(t, err)
		d := dest(store)
		r := &Replay{
			Processor:  &Processor{Schemas: NewRegistrySchemas(store), Destination: d, Quarantine: NewLakeErrors(store)},
			Workers:    2,
			ChunkBytes: 4 << 10,
		}
		sum, err := r.Run(ctx, []decode.Input{decode.StreamInput("-", bytes.NewReader(data))})
		require.NoError(t, err)
		require.Empty(t, sum.WriteErrors)
		require.Greater(t, sum.Files, 3)
		if a, ok := d.(*direct.Assembled); ok {
			require.NoError(t, a.Flush(ctx))
		} else {
			require.NoError(t, d.(*direct.Destination).Flush(ctx))
		}
		return laketest.Files(t, dir)
	}
	require.Equal(t,
		lake(func(s sink.Store) sink.Destination { return direct.NewDeferred(s) }),
		lake(func(s sink.Store) sink.Destination { return direct.NewAssembled(s, direct.AssembleOptions{}) }))
}

// TestAssembledRerunWithOtherSizes replays inputs, then again into the
// same lake with another target file size and another batch size, which
// cut each input into other files (some under the first run's names):
// the manifests list each row once, as a fresh replay with the second
// sizes does, and the files of the first run no longer listed. -short
// changes both sizes at once only, not each alone.
func TestAssembledRerunWithOtherSizes(t *testing.T) {
	t.Parallel()
	inputs := rerunInputs(t, t.TempDir(), 3, 120)
	sized := sizedFiles
	bigger := func() *Config { return sized(1 << 20) }
	fresh := t.TempDir()
	require.Empty(t, replayAssembled(t, context.Background(), fresh, bigger(), 3<<10, 2, nil, nil, inputs...).WriteErrors)
	wantRows, wantFiles, _ := lakeListing(t, fresh)

	firsts := []struct {
		name  string
		cfg   *Config
		chunk int64
	}{
		{"smaller files and batches", sized(1 << 10), 1 << 10},
		{"smaller files", sized(1 << 10), 3 << 10},
		{"smaller batches", bigger(), 1 << 10},
	}
	if testing.Short() {
		firsts = firsts[:1] // both sizes changed at once
	}
	for _, first := range firsts {
		lake := t.TempDir()
		require.Empty(t, replayAssembled(t, context.Background(), lake, first.cfg, first.chunk, 2, nil, nil, inputs...).WriteErrors)
		require.NotEqual(t, parquetNames(t, fresh), parquetNames(t, lake), "%s: the first run cuts other files", first.name)
		again := replayAssembled(t, context.Background(), lake, bigger(), 3<<10, 2, nil, nil, inputs...)
		require.Empty(t, again.WriteErrors)
		rows, files, _ := lakeListing(t, lake)
		require.Equal(t, wantRows, rows, "%s, then the default sizes: each row listed once", first.name)
		require.Equal(t, wantFiles, files, first.name)
	}
}

// parquetNames are the data files in the lake at dir, listed or not.
func parquetNames(t *testing.T, dir string) []string {
	var names []string
	for k := range laketest.Files(t, dir) {
		if strings.HasSuffix(k, ".parquet") {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	return names
}
