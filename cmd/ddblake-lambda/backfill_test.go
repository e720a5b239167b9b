package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/laketest"
	"github.com/ddblake/ddblake/internal/sample"
	"github.com/ddblake/ddblake/pipeline"
	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/direct"
	"github.com/ddblake/ddblake/sink/localstore"
	"github.com/ddblake/ddblake/sink/manifest"
)

// backfillLake is a local lake with a handler that serves the backfill's
// requests over local exports.
type backfillLake struct {
	dir   string
	store sink.Store
	out   *syncBuffer
	h     *Handler
}

func newBackfillLake(t *testing.T, wrap func(sink.Store) sink.Store) *backfillLake {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "lake")
	base, err := localstore.New(dir)
	require.NoError(t, err)
	store := sink.Store(base)
	if wrap != nil {
		store = wrap(base)
	}
	out := &syncBuffer{}
	q := pipeline.NewLakeErrors(store)
	return &backfillLake{dir: dir, store: base, out: out, h: &Handler{
		Processor: &pipeline.Processor{
			Schemas: pipeline.NewRegistrySchemas(store), Destination: direct.New(store), Quarantine: q,
		},
		Out: out, FunctionName: "ddblake-test",
		Lake: dir, Store: store, Exports: &decode.Resolver{Local: decode.LocalFS{}}, Inputs: q,
	}}
}

// testExport is a generated full export in a local folder.
type testExport struct {
	dir   string   // the export folder (holding manifest-summary.json)
	lines []string // manifest-files.json, one line a data file
	items int64
}

func newTestExport(t *testing.T) testExport {
	t.Helper()
	g, err := sample.New(sample.DefaultConfig())
	require.NoError(t, err)
	res, err := g.WriteLargeExport(context.Background(), t.TempDir(), sample.LargeExport{Size: 300 << 10, FileSize: 64 << 10})
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(res.Dir, decode.ExportFilesName))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.GreaterOrEqual(t, len(lines), 4)
	return testExport{dir: res.Dir, lines: lines, items: res.Items}
}

// batchPayload is a Distributed Map batch of the given manifest lines.
func batchPayload(t *testing.T, export, lake string, lines ...string) []byte {
	t.Helper()
	items := make([]json.RawMessage, len(lines))
	for i, l := range lines {
		items[i] = json.RawMessage(l)
	}
	b, err := json.Marshal(map[string]any{"Items": items, "BatchInput": map[string]string{"export": export + "/", "lake": lake}})
	require.NoError(t, err)
	return b
}

func requestPayload(t *testing.T, kind, export, lake string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{kind: map[string]string{"export": export, "lake": lake}})
	require.NoError(t, err)
	return b
}

// errorType is the errorType Lambda reports for err.
func errorType(t *testing.T, err error) string {
	t.Helper()
	var ire messages.InvokeResponse_Error
	require.ErrorAs(t, err, &ire)
	return ire.Type
}

// listed is every file the lake's manifests list, by table.
func listed(t *testing.T, store sink.Store, tables ...string) []string {
	t.Helper()
	var out []string
	for _, table := range tables {
		keys, _, err := manifest.Files(context.Background(), store, table)
		require.NoError(t, err)
		out = append(out, keys...)
	}
	return out
}

func TestRequestKind(t *testing.T) {
	for payload, want := range map[string]string{
		`{"Records":[]}`:                                    requestStream,
		` {"Records":[{"eventID":"1"}]}`:                    requestStream,
		`{"Items":[{"dataFileS3Key":"a"}],"BatchInput":{}}`: requestBatch,
		`{"BatchInput":{},"Items":[]}`:                      requestBatch,
		`{"plan":{"export":"s3://b/e/"}}`:                   requestPlan,
		`{"finish":{"export":"s3://b/e/"}}`:                 requestFinish,
		`{"Items":[]}`:                                      requestStream, // no BatchInput: not a map batch
		`not json`:                                          requestStream,
		`{"plan":{},"Records":[]}`:                          requestStream,
	} {
		require.Equal(t, want, requestKind([]byte(payload)), payload)
	}
}

// TestBackfillBatches writes an export through map batches (one retried,
// one duplicated, in another order than the export's), and checks that
// the lake holds what `ddblake replay` of the export writes, file for
// file, that each batch's result counts its items, and that Finish adds
// the counts up to the export's itemCount.
func TestBackfillBatches(t *testing.T) {
	ctx := context.Background()
	exp := newTestExport(t)
	l := newBackfillLake(t, nil)
	n := len(exp.lines)
	batches := [][]string{exp.lines[n/2:], exp.lines[:1], exp.lines[1 : n/2], exp.lines[:1]}
	records := 0
	for _, b := range batches {
		out, err := l.h.Invoke(ctx, batchPayload(t, exp.dir, l.dir, b...))
		require.NoError(t, err)
		var res BatchResult
		require.NoError(t, json.Unmarshal(out, &res))
		require.Equal(t, len(b), res.DataFiles)
		var want int
		for _, line := range b {
			var f struct{ ItemCount int }
			require.NoError(t, json.Unmarshal([]byte(line), &f))
			want += f.ItemCount
		}
		require.Equal(t, want, res.Records)
		require.Equal(t, want, res.Rows)
		require.Zero(t, res.SetAside)
		require.Positive(t, res.Files)
		records += res.Records
	}
	require.Greater(t, int64(records), exp.items, "one batch ran twice")
	require.Empty(t, listed(t, l.store, "chat_messages"), "a full export's files are listed at once, by finish")
	require.Contains(t, l.out.String(), `"msg":"backfill"`)

	out, err := l.h.Invoke(ctx, requestPayload(t, requestFinish, exp.dir, ""))
	require.NoError(t, err, "%s", l.out.String())
	var fin FinishResult
	require.NoError(t, json.Unmarshal(out, &fin))
	require.Equal(t, exp.items, fin.ItemCount)
	require.Equal(t, exp.items, fin.Records)
	require.Equal(t, exp.items, fin.Rows)
	require.Equal(t, n, fin.DataFiles)
	require.Equal(t, n, fin.Written)
	require.Empty(t, fin.Missing)
	require.Empty(t, fin.DDL, "a local lake has no location for Athena (the emulator test reads the DDL of an S3 lake)")

	// A plain replay of the export writes the same data and manifests.
	replayed := filepath.Join(t.TempDir(), "replayed")
	store, err := localstore.New(replayed)
	require.NoError(t, err)
	inputs, err := (&decode.Resolver{}).Resolve(ctx, exp.dir)
	require.NoError(t, err)
	lake := direct.NewDeferred(store)
	sum, err := (&pipeline.Replay{
		Processor: &pipeline.Processor{Schemas: pipeline.NewRegistrySchemas(store), Destination: lake, Quarantine: pipeline.NewLakeErrors(store)},
		Workers:   2,
	}).Run(ctx, inputs)
	require.NoError(t, err)
	require.NoError(t, lake.Flush(ctx))
	require.EqualValues(t, exp.items, sum.Records)
	require.Equal(t, dataFiles(t, replayed), dataFiles(t, l.dir))
	require.Len(t, listed(t, l.store, "chat_messages"), sum.Files)

	// Finish again changes nothing.
	before := laketest.Files(t, l.dir)
	_, err = l.h.Invoke(ctx, requestPayload(t, requestFinish, exp.dir, ""))
	require.NoError(t, err)
	require.Equal(t, before, laketest.Files(t, l.dir))
}

// dataFiles is the lake's files but its own records (registry, backfill
// records).
func dataFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := laketest.Files(t, dir)
	for k := range files {
		if strings.HasPrefix(k, "_ddblake/") {
			delete(files, k)
		}
	}
	require.NotEmpty(t, files)
	return files
}

// TestBackfillSetsAsideBadFiles checks that a data file whose MD5 is not
// the one listed has its items set aside, not lost: the batch succeeds,
// names the file, and Finish still counts every item.
func TestBackfillSetsAsideBadFiles(t *testing.T) {
	ctx := context.Background()
	exp := newTestExport(t)
	// A wrong MD5 for the second data file, in the export's own list too.
	var f map[string]any
	require.NoError(t, json.Unmarshal([]byte(exp.lines[1]), &f))
	f["md5Checksum"] = base64.StdEncoding.EncodeToString(make([]byte, 16))
	bad, err := json.Marshal(f)
	require.NoError(t, err)
	exp.lines[1] = string(bad)
	require.NoError(t, os.WriteFile(filepath.Join(exp.dir, decode.ExportFilesName), []byte(strings.Join(exp.lines, "\n")+"\n"), 0o644))

	l := newBackfillLake(t, nil)
	out, err := l.h.Invoke(ctx, batchPayload(t, exp.dir, "", exp.lines[:2]...))
	require.NoError(t, err)
	var res BatchResult
	require.NoError(t, json.Unmarshal(out, &res))
	itemCount := int(f["itemCount"].(float64))
	require.Equal(t, itemCount, res.SetAside)
	require.Equal(t, res.Records, res.Rows+res.SetAside)
	require.Len(t, res.InputErrors, 1)
	require.Contains(t, res.InputErrors[0], "MD5")
	_, err = l.h.Invoke(ctx, batchPayload(t, exp.dir, "", exp.lines[2:]...))
	require.NoError(t, err)

	out, err = l.h.Invoke(ctx, requestPayload(t, requestFinish, exp.dir, ""))
	require.NoError(t, err)
	var fin FinishResult
	require.NoError(t, json.Unmarshal(out, &fin))
	require.Equal(t, exp.items, fin.Records)
	require.EqualValues(t, itemCount, fin.SetAside)
	require.Equal(t, exp.items, fin.Rows+fin.SetAside)
	var records, inputs int
	for _, q := range laketest.QuarantineLines(t, l.dir) {
		require.Equal(t, "checksum", q["error_kind"])
		switch file := q["_file"].(string); {
		case strings.HasPrefix(file, "_errors/chat_messages/"):
			records++
		case strings.HasPrefix(file, "_errors/_inputs/"):
			inputs++
		}
	}
	require.Equal(t, itemCount, records, "the file's items, set aside")
	require.Equal(t, 1, inputs, "the file, listed as an input not read whole")
}

// TestBackfillBatchFailsWhole checks that a batch that cannot write every
// row (a store that fails, the deadline) fails as a whole with the error
// type the state machine retries, and leaves nothing a query reads: no
// manifest lists its files, Finish does not count it; its retry writes
// the batch.
func TestBackfillBatchFailsWhole(t *testing.T) {
	ctx := context.Background()
	exp := newTestExport(t)
	for _, tc := range []struct {
		name string
		hang bool
	}{{"store failure", false}, {"deadline", true}} {
		t.Run(tc.name, func(t *testing.T) {
			var fail bool
			// The second data file's Parquet files fail (or never end):
			// the first file's are written by then.
			second := func(key string) bool {
				return fail && strings.HasSuffix(key, ".parquet") && strings.Contains(key, dataFileStem(t, exp.lines[1]))
			}
			l := newBackfillLake(t, func(s sink.Store) sink.Store { return &faultyStore{Store: s, fail: second, hang: tc.hang} })
			l.h.DeadlineMargin = 10 * time.Millisecond
			fail = true
			ictx := ctx
			if tc.hang {
				var cancel context.CancelFunc
				ictx, cancel = context.WithTimeout(ctx, 2*time.Second)
				defer cancel()
			}
			_, err := l.h.Invoke(ictx, batchPayload(t, exp.dir, "", exp.lines[:2]...))
			require.Error(t, err)
			require.Equal(t, ErrorBatchIncomplete, errorType(t, err))
			require.Empty(t, listed(t, l.store, "chat_messages"), "no file of the failed batch is listed")
			if tc.hang {
				require.Contains(t, l.out.String(), `"deadline":true`)
			}
			written, err := l.store.List(ctx, "chat_messages/")
			require.NoError(t, err)
			require.NotEmpty(t, written, "the first data file's files were written, not listed")

			_, err = l.h.Invoke(ctx, requestPayload(t, requestFinish, exp.dir, ""))
			require.Equal(t, ErrorCountMismatch, errorType(t, err))

			fail = false
			_, err = l.h.Invoke(ctx, batchPayload(t, exp.dir, "", exp.lines[:2]...))
			require.NoError(t, err)
			_, err = l.h.Invoke(ctx, batchPayload(t, exp.dir, "", exp.lines[2:]...))
			require.NoError(t, err)
			out, err := l.h.Invoke(ctx, requestPayload(t, requestFinish, exp.dir, ""))
			require.NoError(t, err)
			var fin FinishResult
			require.NoError(t, json.Unmarshal(out, &fin))
			require.Equal(t, exp.items, fin.Records)
		})
	}
}

// dataFileStem is the object-name stem of a manifest line's data file.
func dataFileStem(t *testing.T, line string) string {
	t.Helper()
	var f struct{ DataFileS3Key string }
	require.NoError(t, json.Unmarshal([]byte(line), &f))
	return filepath.Base(f.DataFileS3Key)
}

// TestBackfillRefusesBadRequests checks the requests a retry would not
// mend: they fail with BadBatch, which the state machine does not retry.
func TestBackfillRefusesBadRequests(t *testing.T) {
	ctx := context.Background()
	exp := newTestExport(t)
	l := newBackfillLake(t, nil)
	for name, payload := range map[string][]byte{
		"another lake":           batchPayload(t, exp.dir, "s3://other-lake/x", exp.lines[0]),
		"no export":              []byte(`{"Items":[{"dataFileS3Key":"a"}],"BatchInput":{}}`),
		"a missing export":       batchPayload(t, filepath.Join(t.TempDir(), "nothing"), "", exp.lines[0]),
		"no items":               []byte(`{"Items":[],"BatchInput":{"export":"` + exp.dir + `"}}`),
		"an item not a line":     []byte(`{"Items":["data/x.json.gz"],"BatchInput":{"export":"` + exp.dir + `"}}`),
		"a key outside":          batchPayload(t, exp.dir, "", `{"dataFileS3Key":"../../etc/passwd","itemCount":1}`),
		"plan of a local export": requestPayload(t, requestPlan, exp.dir, ""),
	} {
		_, err := l.h.Invoke(ctx, payload)
		require.Error(t, err, name)
		require.Equal(t, ErrorBadBatch, errorType(t, err), "%s: %v", name, err)
	}
	require.NotContains(t, l.out.String(), `"level":"INFO"`)
	keys, err := l.store.List(ctx, "")
	require.NoError(t, err)
	require.Empty(t, keys, "nothing written")
	require.False(t, errors.Is(context.Canceled, ErrBadPayload))
}
