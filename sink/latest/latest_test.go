package latest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/internal/laketest"
	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/compact"
	"github.com/ddblake/ddblake/sink/latest"
	"github.com/ddblake/ddblake/sink/manifest"
)

const day0 = 1775001600000 // 2026-04-01T00:00:00Z

func later() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) }

// history is a lake table and every row written to it.
type history struct {
	store  sink.Store
	schema *schemas.Schema
	rows   []flatten.Row
	seed   uint64
}

func newHistory(t *testing.T, store sink.Store) *history {
	t.Helper()
	return newHistoryOf(t, store, laketest.RichSchema("t"))
}

func newHistoryOf(t *testing.T, store sink.Store, schema *schemas.Schema) *history {
	t.Helper()
	s, err := sink.NewRegistry(store).Commit(context.Background(), schema)
	require.NoError(t, err)
	return &history{store: store, schema: s}
}

// write writes n rows at day d (0 is 2026-04-01) as one listed batch.
func (h *history) write(t *testing.T, d, n int) {
	t.Helper()
	h.seed++
	rows := laketest.RichRows(n, h.seed, day0+int64(d)*86_400_000+int64(h.seed)*60_000, int(h.seed)*1000)
	w, err := sink.NewTableWriter(h.store, sink.ParquetOptions{})
	require.NoError(t, err)
	files, err := w.Write(context.Background(), h.schema, fmt.Sprintf("b%04d", h.seed), rows)
	require.NoError(t, err)
	require.NoError(t, manifest.NewLister(h.store).Add(context.Background(), files))
	h.rows = append(h.rows, rows...)
}

// want returns the event id and day of every live item's newest
// change, among the rows of the days up to through: what the state must
// hold.
func (h *history) want(through string) []string {
	best := map[string]flatten.Row{}
	for _, r := range h.rows {
		if sink.PartitionOf(r.EventTime, h.schema.Hourly).Day > through {
			continue
		}
		key := fmt.Sprintf("%s|%d", r.Values[0].Str, r.Values[1].Int)
		cur, ok := best[key]
		if !ok || r.EventTime > cur.EventTime || (r.EventTime == cur.EventTime && r.Sequence > cur.Sequence) {
			best[key] = r
		}
	}
	var out []string
	for _, r := range best {
		if r.EventName != "REMOVE" {
			out = append(out, r.EventID+" "+sink.PartitionOf(r.EventTime, false).Day)
		}
	}
	sort.Strings(out)
	return out
}

// stateIDs reads the event id and dt of every row of the state's live
// files.
func stateIDs(t *testing.T, store sink.Store, st *latest.State) []string {
	t.Helper()
	var out []string
	for _, k := range st.Live {
		body, err := store.Get(context.Background(), k)
		require.NoError(t, err)
		rows, err := parquet.Read[struct {
			ID string `parquet:"_event_id"`
			Dt string `parquet:"dt"`
		}](bytes.NewReader(body), int64(len(body)))
		require.NoError(t, err)
		for _, r := range rows {
			out = append(out, r.ID+" "+r.Dt)
		}
	}
	sort.Strings(out)
	return out
}

func build(t *testing.T, store sink.Store, s *schemas.Schema, o latest.Options) latest.Result {
	t.Helper()
	if o.Now == nil {
		o.Now = later
	}
	res, err := latest.Build(context.Background(), store, s, o)
	require.NoError(t, err)
	return res
}

// TestBuildIncremental builds a state through day 2, then late changes
// land in day 1 and new days come: the incremental build equals a build
// from scratch and the history's last live changes; a build with nothing
// new changes nothing.
func TestBuildIncremental(t *testing.T) {
	h := newHistory(t, laketest.NewMemStore())
	for d := range 4 {
		h.write(t, d, 30)
		h.write(t, d, 20)
	}
	res := build(t, h.store, h.schema, latest.Options{Through: "2026-04-02"})
	require.True(t, res.Changed)
	require.True(t, res.Full)
	require.Equal(t, 2, res.Partitions)
	require.Equal(t, h.want("2026-04-02"), stateIDs(t, h.store, res.State))
	first := res.State.Generation

	again := build(t, h.store, h.schema, latest.Options{Through: "2026-04-02"})
	require.False(t, again.Changed, "nothing new")

	h.write(t, 0, 25) // late arrivals in a day the state covers
	h.write(t, 4, 25)
	res = build(t, h.store, h.schema, latest.Options{Through: "2026-04-05"})
	require.True(t, res.Changed)
	require.False(t, res.Full)
	require.Equal(t, 4, res.Partitions, "the late day and the days after the state")
	require.Equal(t, first, res.State.Previous)
	require.Equal(t, h.want("2026-04-05"), stateIDs(t, h.store, res.State))

	fresh := laketest.NewMemStore()
	copyLake(t, h.store, fresh)
	full := build(t, fresh, h.schema, latest.Options{Through: "2026-04-05", Rebuild: true})
	require.True(t, full.Full)
	require.Equal(t, stateIDs(t, fresh, full.State), stateIDs(t, h.store, res.State))
	require.Equal(t, full.State.Items, res.State.Items)
	require.Equal(t, full.State.Tombstones, res.State.Tombstones)

	// Compaction changes the manifests, not the rows: the state built
	// after it holds the same items.
	_, err := compact.Run(context.Background(), h.store, compact.Options{Now: later, Grace: -1})
	require.NoError(t, err)
	res = build(t, h.store, h.schema, latest.Options{Through: "2026-04-05"})
	require.Equal(t, h.want("2026-04-05"), stateIDs(t, h.store, res.State))

	// Generations older than the previous one are gone.
	objs, err := h.store.List(context.Background(), latest.Prefix+"t/")
	require.NoError(t, err)
	gens := map[string]bool{}
	for _, o := range objs {
		gens[o.Key[len(latest.Prefix+"t/"):][:len(first)]] = true
	}
	require.Len(t, gens, 2)
	require.NotContains(t, gens, first)
}

// TestBuildEmptyDays: days with nothing written move the state on
// without new files.
func TestBuildEmptyDays(t *testing.T) {
	h := newHistory(t, laketest.NewMemStore())
	h.write(t, 0, 20)
	res := build(t, h.store, h.schema, latest.Options{Through: "2026-04-01"})
	res2 := build(t, h.store, h.schema, latest.Options{Through: "2026-04-03"})
	require.True(t, res2.Changed)
	require.Equal(t, res.State.Generation, res2.State.Generation)
	require.Equal(t, "2026-04-03", res2.State.Through)
	require.Equal(t, h.want("2026-04-03"), stateIDs(t, h.store, res2.State))
}

func TestBuildRefuses(t *testing.T) {
	h := newHistory(t, laketest.NewMemStore())
	h.write(t, 0, 5)
	now := func() time.Time { return time.Date(2026, 4, 2, 12, 0, 0, 0, time.UTC) }
	_, err := latest.Build(context.Background(), h.store, h.schema, latest.Options{Now: now})
	require.NoError(t, err, "the last closed day is 2026-03-31: an empty state")
	_, err = latest.Build(context.Background(), h.store, h.schema, latest.Options{Now: now, Through: "2026-04-01"})
	require.ErrorIs(t, err, latest.ErrNotClosed)
	_, err = latest.Build(context.Background(), h.store, h.schema, latest.Options{Now: now, Through: "2026-04-01", Force: true})
	require.NoError(t, err)

	noKeys := h.schema.Clone()
	noKeys.Keys = nil
	_, err = latest.Build(context.Background(), h.store, noKeys, latest.Options{Now: later})
	require.ErrorIs(t, err, schemas.ErrNoKeys)

	require.Equal(t, "2026-03-31", latest.LastClosed(now(), latest.DefaultSettle))
	require.Equal(t, "2026-04-01", latest.LastClosed(time.Date(2026, 4, 3, 2, 0, 0, 0, time.UTC), latest.DefaultSettle))
	require.Equal(t, "2026-03-31", latest.LastClosed(time.Date(2026, 4, 3, 1, 59, 0, 0, time.UTC), latest.DefaultSettle))
}

func copyLake(t *testing.T, from, to sink.Store) {
	t.Helper()
	ctx := context.Background()
	objs, err := from.List(ctx, "")
	require.NoError(t, err)
	for _, o := range objs {
		b, err := from.Get(ctx, o.Key)
		require.NoError(t, err)
		require.NoError(t, to.Put(ctx, o.Key, b))
	}
}

// failing dies after its budget of writes.
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

// TestBuildKilledAtEveryStep kills an incremental build before each of
// its writes: the pointer names the old state or the new one, never a
// state with missing files, and a rerun ends with what an uninterrupted
// build gives.
func TestBuildKilledAtEveryStep(t *testing.T) {
	base := newHistory(t, laketest.NewMemStore())
	for d := range 3 {
		base.write(t, d, 20)
	}
	o := latest.Options{Through: "2026-04-02", Now: later, Parquet: sink.ParquetOptions{FileBytes: 6 << 10}}
	build(t, base.store, base.schema, o)
	base.write(t, 1, 10) // late
	base.write(t, 3, 10)
	o.Through = "2026-04-04"
	mem := base.store.(*laketest.MemStore)
	ref := mem.Clone()
	build(t, ref, base.schema, o)
	want := laketest.StoreFiles(t, ref)
	for kill := 0; ; kill++ {
		st := mem.Clone()
		f := &failing{Store: st}
		f.budget.Store(int64(kill))
		_, err := latest.Build(context.Background(), f, base.schema, o)
		cur, _, lerr := latest.Load(context.Background(), st, "t")
		require.NoError(t, lerr)
		for _, k := range cur.Files() {
			_, gerr := st.Get(context.Background(), k)
			require.NoError(t, gerr, "killed before write %d: the pointer names files that exist", kill)
		}
		build(t, st, base.schema, o)
		require.Equal(t, want, laketest.StoreFiles(t, st), "the rerun of a build killed before write %d", kill)
		if err == nil {
			require.Greater(t, kill, 2)
			break
		}
		require.ErrorIs(t, err, errKilled)
		require.Less(t, kill, 200)
	}
}

// TestBuildHourly: the partitions of an hourly table are covered by day,
// and the state's rows keep their dt and hr.
func TestBuildHourly(t *testing.T) {
	s := laketest.RichSchema("t")
	s.Hourly = true
	h := newHistoryOf(t, laketest.NewMemStore(), s)
	for d := range 3 {
		h.write(t, d, 30)
	}
	res := build(t, h.store, h.schema, latest.Options{Through: "2026-04-02"})
	require.Equal(t, h.want("2026-04-02"), stateIDs(t, h.store, res.State))
	for p := range res.State.Consumed {
		require.Regexp(t, `^dt=2026-04-0[12]/hr=\d\d$`, p)
	}
	h.write(t, 0, 10) // late, in another hour of a covered day
	res = build(t, h.store, h.schema, latest.Options{Through: "2026-04-03"})
	require.False(t, res.Full)
	require.Equal(t, h.want("2026-04-03"), stateIDs(t, h.store, res.State))
	body, err := h.store.Get(context.Background(), res.State.Live[0])
	require.NoError(t, err)
	rows, err := parquet.Read[struct {
		Time int64  `parquet:"_event_time"`
		Dt   string `parquet:"dt"`
		Hr   string `parquet:"hr"`
	}](bytes.NewReader(body), int64(len(body)))
	require.NoError(t, err)
	for _, r := range rows {
		p := sink.PartitionOf(r.Time, true)
		require.Equal(t, p.Day, r.Dt)
		require.Equal(t, p.Hour, r.Hr)
	}
}
