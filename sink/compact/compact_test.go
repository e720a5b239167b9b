package compact_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/laketest"
	"github.com/ddblake/ddblake/internal/s3test"
	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/compact"
	"github.com/ddblake/ddblake/sink/localstore"
	"github.com/ddblake/ddblake/sink/manifest"
)

const (
	table = "t"
	start = 1775001600000 // 2026-04-01T00:00:00Z
)

// later is a clock well after every partition of the tests closed.
func later() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) }

// lake is a store with a table registered, and a writer that writes and
// lists batches as the Lambda does.
type lake struct {
	store  sink.Store
	schema *schemas.Schema
	n      atomic.Int64
}

func newLake(t testing.TB, store sink.Store, hourly bool) *lake {
	t.Helper()
	s := laketest.RichSchema(table)
	s.Hourly = hourly
	stored, err := sink.NewRegistry(store).Commit(context.Background(), s)
	require.NoError(t, err)
	return &lake{store: store, schema: stored}
}

func localLake(t *testing.T, hourly bool) *lake {
	t.Helper()
	st, err := localstore.New(t.TempDir())
	require.NoError(t, err)
	return newLake(t, st, hourly)
}

// write writes n rows from seed at from (Unix ms) as one batch, and lists
// its files; the batch's name comes from seed, so writing the same seed
// again rewrites the same files.
func (l *lake) write(t testing.TB, seed uint64, n int, from int64) {
	t.Helper()
	require.NoError(t, l.tryWrite(seed, n, from))
}

// tryWrite is write for goroutines other than the test's.
func (l *lake) tryWrite(seed uint64, n int, from int64) error {
	rows := laketest.RichRows(n, seed, from, int(seed)*1000)
	w, err := sink.NewTableWriter(l.store, sink.ParquetOptions{})
	if err != nil {
		return err
	}
	files, err := w.Write(context.Background(), l.schema, fmt.Sprintf("batch-%06d", seed), rows)
	if err != nil {
		return err
	}
	if err := manifest.NewLister(l.store).Add(context.Background(), files); err != nil {
		return err
	}
	l.n.Add(int64(n))
	return nil
}

// visible returns every row the manifests list, as sorted lines, and the
// number of listed files.
func visible(t testing.TB, st sink.Store) ([]string, int) {
	t.Helper()
	rows, files, err := tryVisible(t, st)
	require.NoError(t, err)
	return rows, files
}

// tryVisible is visible for goroutines other than the test's.
func tryVisible(t testing.TB, st sink.Store) ([]string, int, error) {
	ctx := context.Background()
	parts, err := manifest.Scan(ctx, st, table)
	if err != nil {
		return nil, 0, err
	}
	var rows []string
	files := 0
	for _, p := range parts {
		l, err := manifest.Read(ctx, st, table, p.Partition)
		if err != nil {
			return nil, 0, err
		}
		for _, k := range l.Keys {
			body, err := st.Get(ctx, k)
			if err != nil {
				return nil, 0, fmt.Errorf("a listed file: %w", err)
			}
			for _, r := range laketest.RowStrings(t, body) {
				rows = append(rows, p.Partition.Path()+" "+r)
			}
		}
		files += len(l.Keys)
	}
	slices.Sort(rows)
	return rows, files, nil
}

// day fills one day with many small batches, 40 rows each.
func (l *lake) day(t *testing.T, batches int) {
	t.Helper()
	for i := range batches {
		l.write(t, uint64(i+1), 40, start+int64(i)*1_800_000) // every 30 minutes
	}
}

func run(t *testing.T, st sink.Store, o compact.Options) compact.Summary {
	t.Helper()
	if o.Now == nil {
		o.Now = later
	}
	sum, err := compact.Run(context.Background(), st, o)
	require.NoError(t, err)
	require.Empty(t, sum.Errors)
	return sum
}

// TestCompactDay compacts a day of small files into one: the manifest
// lists the same rows before and after, the replaced files go after the
// grace time, and a second run changes nothing.
func TestCompactDay(t *testing.T) {
	t.Parallel()
	for name, newLake := range map[string]func(t *testing.T) *lake{
		"local": func(t *testing.T) *lake { return localLake(t, false) },
		"s3":    func(t *testing.T) *lake { return newLake(t, s3test.New(t).Store(t, "lake", "p"), false) },
	} {
		t.Run(name, func(t *testing.T) {
			l := newLake(t)
			l.day(t, 16) // 2026-04-01 00:00 to 07:30
			before, files := visible(t, l.store)
			require.Len(t, before, 640)
			require.Equal(t, 16, files)

			sum := run(t, l.store, compact.Options{})
			require.Equal(t, 1, sum.Compacted)
			require.Equal(t, 16, sum.FilesBefore)
			require.Equal(t, 1, sum.FilesAfter)
			require.Equal(t, 1, sum.Outputs)
			require.Zero(t, sum.Deleted, "kept for the grace time")
			after, files := visible(t, l.store)
			require.Equal(t, 1, files)
			require.Equal(t, before, after, "the same rows")

			snapshot := laketest.StoreFiles(t, l.store)
			again := run(t, l.store, compact.Options{})
			require.Zero(t, again.Compacted)
			require.Zero(t, again.Outputs)
			require.Zero(t, again.Listed)
			require.Equal(t, snapshot, laketest.StoreFiles(t, l.store), "a second run changes nothing")

			sum = run(t, l.store, compact.Options{Now: func() time.Time { return later().Add(2 * time.Hour) }})
			require.Equal(t, 16, sum.Deleted)
			parts, err := manifest.Scan(context.Background(), l.store, table)
			require.NoError(t, err)
			require.Len(t, parts, 1)
			require.Empty(t, parts[0].Files, "the small files are gone")
			require.Len(t, parts[0].Compacted, 1)
			got, _ := visible(t, l.store)
			require.Equal(t, before, got)
		})
	}
}

// TestCompactTargetSize merges files up to the target size and no
// further, until no two files fit in one.
func TestCompactTargetSize(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := localLake(t, false)
	l.day(t, 16)
	before, _ := visible(t, l.store)
	var total int64
	parts, err := manifest.Scan(ctx, l.store, table)
	require.NoError(t, err)
	for _, o := range parts[0].Files {
		total += o.Size
	}
	target := total * 21 / 160 // a bit over two files
	o := compact.Options{Parquet: func(string) sink.ParquetOptions { return sink.ParquetOptions{FileBytes: target} }}
	sum := run(t, l.store, o)
	require.Less(t, sum.FilesAfter, 16)
	require.GreaterOrEqual(t, sum.FilesAfter, 4)
	after, _ := visible(t, l.store)
	require.Equal(t, before, after)

	parts, err = manifest.Scan(ctx, l.store, table)
	require.NoError(t, err)
	m, err := manifest.Read(ctx, l.store, table, parts[0].Partition)
	require.NoError(t, err)
	sizes := map[string]int64{}
	for _, o := range append(parts[0].Files, parts[0].Compacted...) {
		sizes[o.Key] = o.Size
	}
	var small []int64
	for _, k := range m.Keys {
		if manifest.IsCompacted(k) {
			require.LessOrEqual(t, sizes[k], target, k)
		}
		if sizes[k]*4 < target*3 {
			small = append(small, sizes[k])
		}
	}
	slices.Sort(small)
	if len(small) >= 2 {
		require.Greater(t, small[0]+small[1], target, "no two listed files fit in one")
	}
	again := run(t, l.store, o)
	require.Zero(t, again.Outputs, "a second run finds nothing to merge")
}

// TestOpenPartitions: a partition that may still receive writes is
// listed, not compacted, unless forced; hourly partitions close by hour.
func TestOpenPartitions(t *testing.T) {
	t.Parallel()
	l := localLake(t, true)
	for i := range 6 {
		l.write(t, uint64(i+1), 10, start+int64(i%2)*3_600_000) // hours 00 and 01
	}
	at := func(s string) func() time.Time {
		return func() time.Time { ts, _ := time.Parse(time.RFC3339, s); return ts }
	}
	// 02:30 the next day with a 1h settle: hour 00 ended 25h30m ago, ...
	sum := run(t, l.store, compact.Options{Now: at("2026-04-01T01:30:00Z"), Settle: 30 * time.Minute})
	require.Equal(t, 1, sum.Compacted, "hour 00 is closed, hour 01 is not")
	require.Equal(t, 1, sum.Open)
	sum = run(t, l.store, compact.Options{Now: at("2026-04-01T01:30:00Z"), Settle: 30 * time.Minute, Force: true})
	require.Equal(t, 1, sum.Compacted)

	require.True(t, compact.Closed(sink.Partition{Day: "2026-04-01"}, at("2026-04-03T02:00:00Z")(), compact.DefaultSettle))
	require.False(t, compact.Closed(sink.Partition{Day: "2026-04-01"}, at("2026-04-03T01:59:59Z")(), compact.DefaultSettle))
}

// TestListsUnlistedFiles: files in a partition's folder that no manifest
// lists (Firehose's, or a writer's killed before listing) are listed,
// even in open partitions; a manifest under another root is rewritten.
func TestListsUnlistedFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := localLake(t, false)
	w, err := sink.NewTableWriter(l.store, sink.ParquetOptions{})
	require.NoError(t, err)
	_, err = w.Write(ctx, l.schema, "firehose-1", laketest.RichRows(10, 9, start, 1))
	require.NoError(t, err)
	rows, files := visible(t, l.store)
	require.Empty(t, rows)
	require.Zero(t, files)

	sum := run(t, l.store, compact.Options{Now: func() time.Time { return time.UnixMilli(start) }})
	require.Equal(t, 1, sum.Listed)
	require.Zero(t, sum.Compacted)
	rows, _ = visible(t, l.store)
	require.Len(t, rows, 10)

	key, _ := manifest.Key(table, sink.Partition{Day: "2026-04-01"})
	require.NoError(t, l.store.Put(ctx, key, []byte("s3://old-bucket/lake/t/dt=2026-04-01/firehose-1-0000.parquet\n")))
	run(t, l.store, compact.Options{Now: func() time.Time { return time.UnixMilli(start) }})
	body, err := l.store.Get(ctx, key)
	require.NoError(t, err)
	require.Equal(t, "t/dt=2026-04-01/firehose-1-0000.parquet\n", string(body))
}

// TestRerunAfterCompaction: a writer that writes a compacted batch again
// (a replay rerun, a retried Lambda batch) adds no row twice, and the
// file it wrote again is removed.
func TestRerunAfterCompaction(t *testing.T) {
	t.Parallel()
	l := localLake(t, false)
	l.day(t, 10)
	before, _ := visible(t, l.store)
	run(t, l.store, compact.Options{Grace: -1})
	parts, err := manifest.Scan(context.Background(), l.store, table)
	require.NoError(t, err)
	require.Empty(t, parts[0].Files)

	l.write(t, 3, 40, start+2*1_800_000) // batch 3 again
	got, files := visible(t, l.store)
	require.Equal(t, before, got)
	require.Equal(t, 1, files)

	sum := run(t, l.store, compact.Options{Grace: -1})
	require.Equal(t, 1, sum.Deleted)
	got, _ = visible(t, l.store)
	require.Equal(t, before, got)
}

// TestWritesDuringCompaction races writers listing new batches in a
// partition with forced compaction runs: every row written is listed
// exactly once at the end, and every moment's manifest shows each row
// at most once.
func TestWritesDuringCompaction(t *testing.T) {
	t.Parallel()
	l := localLake(t, false)
	l.day(t, 8)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	written := make(chan struct{})
	wg.Add(1)
	go func() { // the Lambda
		defer wg.Done()
		defer close(written)
		for i := 100; i < 120; i++ {
			if err := l.tryWrite(uint64(i), 5, start+int64(i)*60_000); err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Add(1)
	go func() { // a reader checking that no row is listed twice
		defer wg.Done()
		for ctx.Err() == nil {
			rows, _, err := tryVisible(t, l.store)
			if err != nil {
				errs <- err
				return
			}
			if len(slices.Compact(slices.Clone(rows))) != len(rows) {
				errs <- errors.New("a row is listed twice")
				return
			}
		}
	}()
	for range 4 {
		// Replaced files are kept (the grace time does not pass), so a
		// reader that read a manifest before a switch still finds them.
		sum, err := compact.Run(ctx, l.store, compact.Options{Force: true, Now: later})
		require.NoError(t, err)
		require.Empty(t, sum.Errors)
	}
	// Wait for the writer, then stop the reader.
	<-written
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	run(t, l.store, compact.Options{Force: true, Grace: -1})
	rows, _ := visible(t, l.store)
	require.Len(t, rows, 8*40+20*5, "every row once")
}

// failing is a store that dies after its budget of writes (Put, PutIf,
// Delete): that write and every later one fail, as if the process had
// been killed before it.
type failing struct {
	sink.Store
	budget atomic.Int64
}

var errKilled = errors.New("killed")

func (f *failing) spend() error {
	if f.budget.Add(-1) < 0 {
		return errKilled
	}
	return nil
}

func (f *failing) Put(ctx context.Context, key string, body []byte) error {
	if err := f.spend(); err != nil {
		return err
	}
	return f.Store.Put(ctx, key, body)
}

func (f *failing) PutIf(ctx context.Context, key string, body []byte, v string) (string, error) {
	if err := f.spend(); err != nil {
		return "", err
	}
	return f.Store.PutIf(ctx, key, body, v)
}

func (f *failing) Delete(ctx context.Context, key string) error {
	if err := f.spend(); err != nil {
		return err
	}
	return f.Store.Delete(ctx, key)
}

// TestKilledAtEveryStep kills a compaction before each of its writes in
// turn (every moment a kill -9 can leave, since every write is atomic):
// the manifests always list the same rows, and the next run finishes the
// work, giving the lake an uninterrupted run gives.
func TestKilledAtEveryStep(t *testing.T) {
	t.Parallel()
	mem := laketest.NewMemStore()
	base := newLake(t, mem, false)
	for i := range 4 {
		base.write(t, uint64(i+1), 12, start+int64(i)*1_800_000)
	}
	base.write(t, 500, 12, start+86_400_000) // a second day
	build := func(t *testing.T) *lake { return &lake{store: mem.Clone(), schema: base.schema} }
	before, _ := visible(t, base.store)
	o := compact.Options{Grace: -1, Now: later, Parquet: func(string) sink.ParquetOptions { return sink.ParquetOptions{FileBytes: 12 << 10} }}
	ref := build(t)
	refSum := run(t, ref.store, o)
	require.GreaterOrEqual(t, refSum.Outputs, 2, "several groups")
	want := laketest.StoreFiles(t, ref.store)
	step := 1
	if testing.Short() {
		step = 3
	}
	for kill := 0; ; kill += step {
		l := build(t)
		f := &failing{Store: l.store}
		f.budget.Store(int64(kill))
		sum, err := compact.Run(context.Background(), f, o)
		finished := err == nil && len(sum.Errors) == 0
		rows, _ := visible(t, l.store)
		require.Equal(t, before, rows, "killed before write %d: the manifests list the same rows", kill)
		run(t, l.store, o)
		rows, _ = visible(t, l.store)
		require.Equal(t, before, rows, "after the rerun of a run killed before write %d", kill)
		require.Equal(t, want, laketest.StoreFiles(t, l.store), "the rerun finishes the work of a run killed before write %d", kill)
		if finished {
			t.Logf("%d kill points, %d outputs", kill, refSum.Outputs)
			require.Greater(t, kill, 3)
			break
		}
		require.Less(t, kill, 500)
	}
}
