package direct_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/internal/laketest"
	"github.com/ddblake/ddblake/internal/s3test"
	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/direct"
	"github.com/ddblake/ddblake/sink/localstore"
	"github.com/ddblake/ddblake/sink/manifest"
	"github.com/ddblake/ddblake/sink/s3store"
)

const day0 = int64(1775001600000) // 2026-04-01T00:00:00Z

// batchRun is a run of batches for an Assembled destination: batch i has
// ticket i, its unit and rows of several days, its rows using different
// columns (sparse: maps, lists, decimals) from one batch to the next.
type batchRun struct {
	schema *schemas.Schema
	units  []int // by ticket
	rows   [][]flatten.Row
}

func newBatchRun(tickets, perBatch, days int, units ...int) batchRun {
	s := laketest.RichSchema("things")
	for _, c := range []schemas.Column{
		{Name: "read_by", Path: "readBy", Type: schemas.MapOf(schemas.Bigint), Source: "M"},
		{Name: "rare", Path: "rare", Type: schemas.Decimal(20, 4), Source: "N"},
	} {
		if _, err := s.Add(c); err != nil {
			panic(err)
		}
	}
	r := batchRun{schema: s}
	for i := range tickets {
		rows := laketest.RichRows(perBatch, uint64(i), day0, i*perBatch)
		for k := range rows {
			rows[k].EventTime = day0 + int64((i+k)%days)*86_400_000 + int64(k)
			v := slices.Grow(rows[k].Values, 14)[:14]
			switch (i / 10) % 3 {
			case 0:
				v[12] = flatten.MapOf(flatten.Datum{Valid: true, Str: fmt.Sprintf("u%d", k)}, flatten.Datum{Valid: true, Int: int64(i)})
			case 1:
				v[13] = flatten.Datum{Valid: true, Str: fmt.Sprintf("%d.%04d", i, k)}
			}
			rows[k].Values = v
		}
		unit := 0
		if len(units) > 0 {
			unit = units[i%len(units)]
		}
		r.units = append(r.units, unit)
		r.rows = append(r.rows, rows)
	}
	return r
}

// batchID names ticket i's batch.
func batchID(i int) string { return fmt.Sprintf("in-%04d-c%06d", i/1000, i) }

// write sends the run through dest: each batch's Write, then its Done,
// in the order order gives (concurrently when parallel), each unit ended
// after its last ticket; then Close and Flush.
func (r batchRun) write(t *testing.T, dest *direct.Assembled, order []int, parallel bool) sink.Assembly {
	t.Helper()
	ctx := context.Background()
	// Units end before the next unit's first ticket is given: here, all
	// given up front.
	for i := range r.units {
		if i == len(r.units)-1 || r.units[i+1] != r.units[i] {
			dest.EndUnit(r.units[i], i+1, true)
		}
	}
	one := func(i int) {
		place := &sink.Place{Ticket: i, Unit: r.units[i]}
		d, err := dest.Write(ctx, batchID(i), &sink.Table{Name: r.schema.Table, Schema: r.schema, Place: place, Parquet: sink.ParquetOptions{FileBytes: 64 << 10}}, r.rows[i])
		require.NoError(t, err)
		require.Empty(t, d.Failed)
		dest.Done(ctx, *place, true)
	}
	if parallel {
		var wg sync.WaitGroup
		for _, i := range order {
			wg.Add(1)
			go func() { defer wg.Done(); one(i) }()
		}
		wg.Wait()
	} else {
		for _, i := range order {
			one(i)
		}
	}
	asm := dest.Close(ctx)
	require.NoError(t, dest.Flush(ctx))
	return asm
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// listedRows reads the rows of every file the manifests list, by
// partition, in file order, and counts the files.
func listedRows(t *testing.T, st sink.Store, table string) (map[string][]string, int) {
	t.Helper()
	ctx := context.Background()
	parts, err := manifest.Scan(ctx, st, table)
	require.NoError(t, err)
	out := map[string][]string{}
	files := 0
	for _, p := range parts {
		l, err := manifest.Read(ctx, st, table, p.Partition)
		require.NoError(t, err)
		for _, k := range l.Keys {
			body, err := st.Get(ctx, k)
			require.NoError(t, err)
			out[p.Partition.Path()] = append(out[p.Partition.Path()], laketest.RowStrings(t, body)...)
			files++
		}
	}
	for k := range out {
		slices.Sort(out[k])
	}
	return out, files
}

// TestAssembledJoinsInTicketOrder writes a run of batches with their
// writes and Dones in order, reversed, shuffled and concurrent: the lake
// is the same bytes every time, it holds the rows the per-batch
// destination writes, in far fewer files, each file of one partition of
// one unit, and the Assembly counts the files the manifests list. -short
// leaves out the reversed order and the shuffled one written one at a
// time.
func TestAssembledJoinsInTicketOrder(t *testing.T) {
	t.Parallel()
	run := newBatchRun(60, 40, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2)
	ctx := context.Background()

	perBatch, err := localstore.New(t.TempDir())
	require.NoError(t, err)
	plain := direct.NewDeferred(perBatch)
	for i, rows := range run.rows {
		_, err := plain.Write(ctx, batchID(i), &sink.Table{Name: run.schema.Table, Schema: run.schema}, rows)
		require.NoError(t, err)
	}
	require.NoError(t, plain.Flush(ctx))
	wantRows, batchFiles := listedRows(t, perBatch, "things")

	rng := rand.New(rand.NewPCG(5, 5))
	shuffled := seq(len(run.rows))
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	reversed := seq(len(run.rows))
	slices.Reverse(reversed)
	var first map[string]string
	orders := []struct {
		name     string
		order    []int
		parallel bool
		window   int
	}{
		{"in order", seq(len(run.rows)), false, 1 << 20},
		{"shuffled", shuffled, true, 1 << 20},
		{"shuffled, two batches ahead at most", shuffled, true, 2},
		{"reversed", reversed, true, 1 << 20},
		{"shuffled, one at a time", shuffled, false, 1 << 20},
	}
	if testing.Short() {
		orders = orders[:3]
	}
	for _, tc := range orders {
		dir := t.TempDir()
		st, err := localstore.New(dir)
		require.NoError(t, err)
		asm := run.write(t, direct.NewAssembled(st, direct.AssembleOptions{Window: tc.window}), tc.order, tc.parallel)
		require.Empty(t, asm.Unwritten, tc.name)
		files := laketest.Files(t, dir)
		if first == nil {
			first = files
			got, n := listedRows(t, st, "things")
			require.Equal(t, wantRows, got, "the rows the per-batch files hold")
			require.Equal(t, len(asm.Written), n, "every file put is listed")
			require.Less(t, n*3, batchFiles, "far fewer files than batches and partitions")
			for _, f := range asm.Written {
				require.True(t, strings.HasSuffix(f.Key, fmt.Sprintf("/%s-0000.parquet", batchID(f.First))), "%s is named after its first batch, %d", f.Key, f.First)
			}
			continue
		}
		require.Equal(t, first, files, "%s: the same bytes", tc.name)
	}
}

// TestAssembledOneBatchIsTheBatchFile: a unit of one batch writes exactly
// the files the per-batch destination writes.
func TestAssembledOneBatchIsTheBatchFile(t *testing.T) {
	run := newBatchRun(3, 200, 4, 0, 1, 2)
	ctx := context.Background()
	dirA, dirB := t.TempDir(), t.TempDir()
	a, err := localstore.New(dirA)
	require.NoError(t, err)
	plain := direct.NewDeferred(a)
	for i, rows := range run.rows {
		_, err := plain.Write(ctx, batchID(i), &sink.Table{Name: run.schema.Table, Schema: run.schema, Parquet: sink.ParquetOptions{FileBytes: 64 << 10}}, rows)
		require.NoError(t, err)
	}
	require.NoError(t, plain.Flush(ctx))
	b, err := localstore.New(dirB)
	require.NoError(t, err)
	asm := run.write(t, direct.NewAssembled(b, direct.AssembleOptions{}), seq(3), true)
	require.Empty(t, asm.Unwritten)
	require.Equal(t, laketest.Files(t, dirA), laketest.Files(t, dirB))
}

// TestAssembledBoundsOpenFiles: with MaxOpen files open, a unit spread
// over more partitions finishes the file appended to least recently; the
// rows are all there, and the same order of batches gives the same files.
func TestAssembledBoundsOpenFiles(t *testing.T) {
	t.Parallel()
	run := newBatchRun(40, 30, 9)
	var first map[string]string
	for round := range 2 {
		dir := t.TempDir()
		st, err := localstore.New(dir)
		require.NoError(t, err)
		asm := run.write(t, direct.NewAssembled(st, direct.AssembleOptions{MaxOpen: 2}), seq(len(run.rows)), round == 1)
		require.Empty(t, asm.Unwritten)
		got, n := listedRows(t, st, "things")
		total := 0
		for _, rows := range got {
			total += len(rows)
		}
		require.Equal(t, 40*30, total)
		require.Greater(t, n, 9*3, "files cut by the bound, several per partition")
		files := laketest.Files(t, dir)
		if first == nil {
			first = files
		} else {
			require.Equal(t, first, files)
		}
	}
}

// failingPuts fails every Put of a data file of one partition.
type failingPuts struct {
	sink.Store
	partition string
}

func (f failingPuts) Put(ctx context.Context, key string, body []byte) error {
	if strings.Contains(key, f.partition) {
		return errors.New("503 Slow Down")
	}
	return f.Store.Put(ctx, key, body)
}

// TestAssembledReportsUnwrittenFiles: a file that cannot be put reports
// every row in it, by batch; the other files are written and listed.
func TestAssembledReportsUnwrittenFiles(t *testing.T) {
	run := newBatchRun(20, 30, 2)
	st, err := localstore.New(t.TempDir())
	require.NoError(t, err)
	asm := run.write(t, direct.NewAssembled(failingPuts{st, "dt=2026-04-02"}, direct.AssembleOptions{}), seq(20), true)
	require.NotEmpty(t, asm.Unwritten)
	lost := 0
	tickets := map[int]bool{}
	for _, u := range asm.Unwritten {
		require.ErrorContains(t, u.Err, "503 Slow Down")
		require.Contains(t, u.Key, "dt=2026-04-02")
		for _, tr := range u.Rows {
			lost += tr.Rows
			tickets[tr.Ticket] = true
		}
	}
	got, _ := listedRows(t, st, "things")
	require.Equal(t, 20*30, lost+len(got["dt=2026-04-01"]), "every row is written or reported")
	require.Len(t, got, 1)
	require.Len(t, tickets, 20, "every batch had rows in the lost file")
}

// TestAssembledLeavesBrokenUnitsUnfinished: a batch that is not whole
// leaves its unit's open files, and the unit's later rows, unwritten;
// files finished before, and other units, are written.
func TestAssembledLeavesBrokenUnitsUnfinished(t *testing.T) {
	ctx := context.Background()
	run := newBatchRun(12, 30, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1)
	st, err := localstore.New(t.TempDir())
	require.NoError(t, err)
	dest := direct.NewAssembled(st, direct.AssembleOptions{})
	dest.EndUnit(0, 6, true)
	dest.EndUnit(1, 12, true)
	for i, rows := range run.rows {
		place := &sink.Place{Ticket: i, Unit: run.units[i]}
		_, err := dest.Write(ctx, batchID(i), &sink.Table{Name: "things", Schema: run.schema, Place: place, Parquet: sink.ParquetOptions{FileBytes: 1 << 20}}, rows)
		require.NoError(t, err)
		dest.Done(ctx, *place, i != 3) // the fourth batch lost a table
	}
	asm := dest.Close(ctx)
	require.NoError(t, dest.Flush(ctx))
	require.Len(t, asm.Written, 1, "unit 1's file")
	require.Equal(t, 6, asm.Written[0].First)
	lost := map[int]int{}
	for _, u := range asm.Unwritten {
		require.ErrorIs(t, u.Err, sink.ErrUnfinished)
		for _, tr := range u.Rows {
			lost[tr.Ticket] += tr.Rows
		}
	}
	require.Equal(t, map[int]int{0: 30, 1: 30, 2: 30, 3: 30, 4: 30, 5: 30}, lost, "unit 0's rows, before and after the broken batch")
	got, n := listedRows(t, st, "things")
	require.Equal(t, 1, n)
	require.Len(t, got["dt=2026-04-01"], 6*30)
}

// TestAssembledBoundsNullChunks: batches whose rows use columns no other
// batch near them uses (a wide, sparse table) do not share a file when
// the chunks of nulls filling the columns each lacks would take more than
// an eighth of it; batches using the same columns do.
func TestAssembledBoundsNullChunks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := schemas.NewSchema("wide")
	for c := range 120 {
		_, err := s.Add(schemas.Column{Name: fmt.Sprintf("c%03d", c), Path: fmt.Sprintf("c%03d", c), Type: schemas.Bigint})
		require.NoError(t, err)
	}
	// Batches 0-9 use columns 0-39, 10-19 columns 40-79, 20-29 columns
	// 80-119: three groups of files, cut where the columns change.
	var rows [][]flatten.Row
	for i := range 30 {
		var rs []flatten.Row
		for k := range 20 {
			v := make([]flatten.Datum, 120)
			for c := range 40 {
				v[(i/10)*40+c] = flatten.Datum{Valid: true, Int: int64(i*1000 + k*40 + c)}
			}
			rs = append(rs, flatten.Row{Meta: flatten.Meta{EventName: "INSERT", EventID: fmt.Sprint(i, k), EventTime: day0 + int64(k)}, Values: v})
		}
		rows = append(rows, rs)
	}
	dir := t.TempDir()
	st, err := localstore.New(dir)
	require.NoError(t, err)
	dest := direct.NewAssembled(st, direct.AssembleOptions{})
	dest.EndUnit(0, 30, true)
	for i, rs := range rows {
		place := &sink.Place{Ticket: i, Unit: 0}
		_, err := dest.Write(ctx, batchID(i), &sink.Table{Name: "wide", Schema: s, Place: place}, rs)
		require.NoError(t, err)
		dest.Done(ctx, *place, true)
	}
	asm := dest.Close(ctx)
	require.Empty(t, asm.Unwritten)
	require.NoError(t, dest.Flush(ctx))
	firsts := map[int]bool{}
	for _, f := range asm.Written {
		firsts[f.First] = true
	}
	require.Equal(t, map[int]bool{0: true, 10: true, 20: true}, firsts, "a file for each group of batches using the same columns")
	got, _ := listedRows(t, st, "wide")
	require.Len(t, got["dt=2026-04-01"], 600)
}

// TestAssembledOnS3 joins a run into an S3 lake (gofakes3), the files
// uploaded in parts from their spools: the data files are those of a
// local lake, byte for byte.
func TestAssembledOnS3(t *testing.T) {
	t.Parallel()
	units := make([]int, 30)
	for i := 16; i < 30; i++ {
		units[i] = 1
	}
	run := newBatchRun(30, 40, 2, units...)
	dir := t.TempDir()
	local, err := localstore.New(dir)
	require.NoError(t, err)
	require.Empty(t, run.write(t, direct.NewAssembled(local, direct.AssembleOptions{}), seq(30), true).Unwritten)

	srv := s3test.New(t)
	srv.Store(t, "lake", "")
	remote, err := s3store.New(srv.Client, "s3://lake/p", s3store.Options{PartSize: 32 << 10, Concurrency: 2})
	require.NoError(t, err)
	asm := run.write(t, direct.NewAssembled(remote, direct.AssembleOptions{}), seq(30), true)
	require.Empty(t, asm.Unwritten)
	var big int
	for _, f := range asm.Written {
		if f.Bytes > 32<<10 {
			big++
		}
	}
	require.Positive(t, big, "files uploaded in several parts")
	data := func(files map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range files {
			if strings.HasSuffix(k, ".parquet") {
				out[k] = v
			}
		}
		return out
	}
	want := data(laketest.Files(t, dir))
	require.NotEmpty(t, want)
	require.Equal(t, want, data(laketest.StoreFiles(t, remote)))
	got, _ := listedRows(t, remote, "things")
	wantRows, _ := listedRows(t, local, "things")
	require.Equal(t, wantRows, got)
}
