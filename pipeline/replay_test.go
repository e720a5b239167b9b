package pipeline

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/internal/laketest"
	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/direct"
	"github.com/ddblake/ddblake/sink/localstore"
)

// replayInto replays sources into the lake at dir with the real local
// store, as `ddblake replay --to dir` does.
func replayInto(t *testing.T, dir string, cfg *Config, sources ...string) Summary {
	t.Helper()
	return replayChunked(t, dir, cfg, 0, sources...)
}

// replayChunked is replayInto with batches of at most chunkBytes (0: the
// default).
func replayChunked(t *testing.T, dir string, cfg *Config, chunkBytes int64, sources ...string) Summary {
	t.Helper()
	ctx := context.Background()
	store, err := localstore.New(dir)
	require.NoError(t, err)
	inputs, err := (&decode.Resolver{}).Resolve(ctx, sources...)
	require.NoError(t, err)
	r := &Replay{
		Processor:  &Processor{Config: cfg, Schemas: NewRegistrySchemas(store), Destination: direct.New(store), Quarantine: NewLakeErrors(store)},
		Inputs:     NewLakeErrors(store),
		Workers:    2,
		ChunkBytes: chunkBytes,
	}
	sum, err := r.Run(ctx, inputs)
	require.NoError(t, err)
	return sum
}

// parquetRows counts the rows of every Parquet file under dir/table.
func parquetRows(t *testing.T, dir, table string) int {
	t.Helper()
	n := 0
	files, _ := filepath.Glob(filepath.Join(dir, table, "dt=*", "*.parquet"))
	for _, f := range files {
		fh, err := os.Open(f)
		require.NoError(t, err)
		st, _ := fh.Stat()
		pf, err := parquet.OpenFile(fh, st.Size())
		require.NoError(t, err)
		n += int(pf.NumRows())
		fh.Close()
	}
	return n
}

func TestReplaySample(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sum := replayInto(t, dir, nil, "../testdata/sample")
	require.Empty(t, sum.InputErrors)
	require.Empty(t, sum.WriteErrors)
	require.NotZero(t, sum.Records)
	require.Equal(t, sum.Records, sum.Rows+sum.SetAside, "every record is a row or set aside")
	require.Equal(t, 0, sum.SetAside, "the sample is clean")
	require.ElementsMatch(t, []string{"chat_messages", "chat_rooms"}, keys(sum.TableRows))
	for table, rows := range sum.TableRows {
		require.Equal(t, rows, parquetRows(t, dir, table), table)
		_, err := os.Stat(filepath.Join(dir, "_ddblake", "schemas", table+".json"))
		require.NoError(t, err)
	}

	// A rerun leaves the lake byte-identical.
	before := laketest.Files(t, dir)
	again := replayInto(t, dir, nil, "../testdata/sample")
	require.Equal(t, sum.Rows, again.Rows)
	require.Equal(t, before, laketest.Files(t, dir))
}

func keys(m map[string]int) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestReplayBadInputsSetAsideAndGoOn(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sum := replayInto(t, dir, nil,
		"../testdata/inputs/lambda/bad_records.json",
		"../testdata/inputs/jsonl/corrupt_truncated.jsonl.gz",
		"../testdata/inputs/export/bad_md5",
		"../testdata/inputs/lambda/chat_stream.json",
	)
	require.NotEmpty(t, sum.InputErrors, "the corrupt gzip and the bad MD5 are reported")
	var msgs []string
	for _, e := range sum.InputErrors {
		msgs = append(msgs, e.Error())
	}
	joined := strings.Join(msgs, "\n")
	require.Contains(t, joined, "corrupt_truncated.jsonl.gz")
	require.Contains(t, joined, "MD5")
	require.NotZero(t, sum.SetAside)
	require.NotZero(t, sum.Rows, "good records still land")
	require.Equal(t, sum.Records, sum.Rows+sum.SetAside, "every record read is a row or set aside")
	inputs, _ := filepath.Glob(filepath.Join(dir, "_errors", "_inputs", "*.jsonl"))
	require.Len(t, inputs, 2, "each input that broke is listed in _errors/_inputs")
	var listed []string
	for _, f := range inputs {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		listed = append(listed, string(b))
	}
	require.Contains(t, strings.Join(listed, ""), "corrupt_truncated.jsonl.gz")
	require.Contains(t, strings.Join(listed, ""), `"error_kind":"checksum"`)
	quarantined := 0
	for k := range laketest.Files(t, dir) {
		if strings.HasPrefix(k, "_errors/") {
			quarantined++
			require.True(t, strings.HasSuffix(k, ".jsonl"), k)
		}
		require.False(t, strings.Contains(k, ".."), k)
	}
	require.NotZero(t, quarantined)
}

// failingStore fails every Put of a data file of one table, as an S3
// outage would.
type failingStore struct {
	sink.Store
	table string
	mu    sync.Mutex
	puts  int
}

func (f *failingStore) Put(ctx context.Context, key string, body []byte) error {
	f.mu.Lock()
	f.puts++
	f.mu.Unlock()
	if strings.HasPrefix(key, f.table+"/") {
		return errors.New("503 Slow Down")
	}
	return f.Store.Put(ctx, key, body)
}

func TestProcessReportsFirstUndeliveredRecord(t *testing.T) {
	ctx := context.Background()
	base, err := localstore.New(t.TempDir())
	require.NoError(t, err)
	store := &failingStore{Store: base, table: "chat_rooms"}
	p := &Processor{Schemas: NewRegistrySchemas(store), Destination: direct.New(store), Quarantine: NewLakeErrors(store)}

	payload, err := os.ReadFile("../testdata/sample/lambda/chat-rooms/shard-0/001.json")
	require.NoError(t, err)
	b := &Batch{ID: "test-batch"}
	require.NoError(t, decode.Event(payload, "event", func(rec *decode.ChangeRecord, rerr *decode.RecordError) error {
		if rerr != nil {
			b.Errors = append(b.Errors, rerr)
		} else {
			b.Records = append(b.Records, rec)
		}
		return nil
	}))
	require.NotEmpty(t, b.Records)
	res, err := p.Process(ctx, b)
	require.Error(t, err)
	require.Contains(t, err.Error(), "503 Slow Down")
	require.Equal(t, b.Records[0].Index, res.FirstFailed, "nothing of the failing table landed")
	require.Zero(t, res.Rows)
}

// TestFreshReplaysAgree rebuilds the sample's lake from nothing several
// times, in small batches written in parallel: new columns are committed
// in input order, so every rebuild names and types every column the same
// way and writes the same bytes.
func TestFreshReplaysAgree(t *testing.T) {
	t.Parallel()
	var first map[string]string
	rebuilds := 4
	if testing.Short() {
		rebuilds = 2 // one comparison
	}
	for i := range rebuilds {
		dir := t.TempDir()
		sum := replayChunked(t, dir, nil, 16<<10, "../testdata/sample")
		require.Empty(t, sum.WriteErrors)
		files := laketest.Files(t, dir)
		if i == 0 {
			first = files
			require.Greater(t, sum.Files, 40, "small batches make many files")
			continue
		}
		require.Equal(t, first, files, "rebuild %d differs", i)
	}
}

func TestCommitOrder(t *testing.T) {
	var o commitOrder
	var mu sync.Mutex
	var got []int
	var wg sync.WaitGroup
	for _, ticket := range []int{4, 2, 0, 3, 1} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			require.NoError(t, o.wait(context.Background(), ticket))
			mu.Lock()
			got = append(got, ticket)
			mu.Unlock()
			o.done(ticket)
		}()
	}
	wg.Wait()
	require.Equal(t, []int{0, 1, 2, 3, 4}, got)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, o.wait(ctx, 9), context.Canceled, "a canceled wait returns")

	// A batch that returns before committing still passes its turn on.
	o.pass(context.Background(), 5)
	require.NoError(t, o.wait(context.Background(), 6))
	o.pass(context.Background(), 5) // passing a turn twice is harmless
	require.NoError(t, o.wait(context.Background(), 6))
}

// TestReplayStdinKeepsEachContent replays two different inputs from
// standard input into one lake: stdin has no name or size to tell them
// apart, so their batches are named by content, and the second replay
// must not overwrite the first one's files; the same content again must.
func TestReplayStdinKeepsEachContent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := localstore.New(dir)
	require.NoError(t, err)
	replayStdin := func(path string) Summary {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		r := &Replay{
			Processor: &Processor{Schemas: NewRegistrySchemas(store), Destination: direct.New(store), Quarantine: NewLakeErrors(store)},
			Workers:   2,
		}
		sum, err := r.Run(ctx, []decode.Input{decode.StreamInput("-", bytes.NewReader(data))})
		require.NoError(t, err)
		require.Empty(t, sum.InputErrors)
		return sum
	}
	a := replayStdin("../testdata/sample/lambda/chat-messages/shard-0/001.json")
	b := replayStdin("../testdata/sample/lambda/chat-messages/shard-0/002.json")
	require.Equal(t, a.Rows+b.Rows, parquetRows(t, dir, "chat_messages"), "both contents are in the lake")
	before := laketest.Files(t, dir)
	replayStdin("../testdata/sample/lambda/chat-messages/shard-0/002.json")
	require.Equal(t, before, laketest.Files(t, dir), "the same content again overwrites its own files")
}

// TestConfigKeysForExports: a full export carries no key schema, so the
// configuration's keys: give the registry (and the _latest view) its key.
func TestConfigKeysForExports(t *testing.T) {
	cfg, err := ParseConfig([]byte("tables:\n  chat-rooms:\n    keys: [roomId]\n"))
	require.NoError(t, err)
	for _, tc := range []struct {
		cfg  *Config
		want []string
	}{{nil, nil}, {cfg, []string{"roomId"}}} {
		dir := t.TempDir()
		replayInto(t, dir, tc.cfg, "../testdata/sample/export/chat-rooms")
		store, err := localstore.New(dir)
		require.NoError(t, err)
		s, err := NewRegistrySchemas(store).Schema(context.Background(), "chat_rooms")
		require.NoError(t, err)
		require.Equal(t, tc.want, s.Keys)
	}
	_, err = ParseConfig([]byte("tables:\n  t:\n    keys: [a, b, c]\n"))
	require.ErrorIs(t, err, flatten.ErrBadConfig)
}
