package pipeline

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/laketest"
	"github.com/ddblake/ddblake/internal/sample"
	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/sink/direct"
	"github.com/ddblake/ddblake/sink/localstore"
)

// writeLargeExport generates a full export of several data files under dir
// and returns its folder.
func writeLargeExport(t *testing.T, dir string, size, fileSize int64) sample.ExportResult {
	t.Helper()
	g, err := sample.New(sample.DefaultConfig())
	require.NoError(t, err)
	res, err := g.WriteLargeExport(context.Background(), dir, sample.LargeExport{Size: size, FileSize: fileSize})
	require.NoError(t, err)
	return res
}

// replayExportInputs replays inputs into the lake at dir as one run (a
// `ddblake replay`, or one map batch of a backfill): its own Processor
// and registry cache, the files listed in their manifests at the end.
func replayExportInputs(t *testing.T, dir string, chunkBytes int64, inputs ...decode.Input) Summary {
	t.Helper()
	ctx := context.Background()
	store, err := localstore.New(dir)
	require.NoError(t, err)
	lake := direct.NewDeferred(store)
	r := &Replay{
		Processor:  &Processor{Schemas: NewRegistrySchemas(store), Destination: lake, Quarantine: NewLakeErrors(store)},
		Inputs:     NewLakeErrors(store),
		Workers:    2,
		ChunkBytes: chunkBytes,
	}
	sum, err := r.Run(ctx, inputs)
	require.NoError(t, err)
	require.Empty(t, sum.InputErrors)
	require.Empty(t, sum.WriteErrors)
	require.NoError(t, lake.Flush(ctx))
	return sum
}

// TestReplayExportFilesWriteWhatTheExportWrites replays an export whole,
// and again as a backfill does, its data files in batches (Input.Files)
// run one after the other in another order, one batch twice, one naming
// a file twice: both lakes hold the same files, byte for byte (data,
// manifests, registry), since an export's batches are named by data file.
// Each batch's counts by data file match the manifest's item counts.
func TestReplayExportFilesWriteWhatTheExportWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	exp := writeLargeExport(t, t.TempDir(), 400<<10, 64<<10)
	require.GreaterOrEqual(t, exp.Files, 5, "an export of several data files")
	const chunk = 24 << 10 // several batches per data file

	whole := filepath.Join(t.TempDir(), "whole")
	inputs, err := (&decode.Resolver{}).Resolve(ctx, exp.Dir)
	require.NoError(t, err)
	require.Len(t, inputs, 1)
	sum := replayExportInputs(t, whole, chunk, inputs...)
	require.EqualValues(t, exp.Items, sum.Records)
	require.Greater(t, sum.Files, exp.Files, "files of several batches per data file")

	lines := strings.SplitAfter(strings.TrimSpace(readString(t, filepath.Join(exp.Dir, decode.ExportFilesName))), "\n")
	require.Len(t, lines, exp.Files)
	batches := [][]string{
		lines[3:],
		{lines[1], lines[2], lines[1]}, // a file named twice is read once
		lines[:1],
		lines[1:3], // a retried batch
	}
	byFiles := filepath.Join(t.TempDir(), "batches")
	dec, err := decode.NewDecoder(decode.Options{})
	require.NoError(t, err)
	for _, b := range batches {
		in := inputs[0]
		in.Files = []byte(strings.Join(b, "\n"))
		files, errs := dec.ExportDataFiles(ctx, in)
		require.Empty(t, errs)
		s := replayExportInputs(t, byFiles, chunk, in)
		records := 0
		for _, f := range files {
			require.Equal(t, int(f.ItemCount), s.Sources[f.Name].Records, "%s", f.Name)
			records += s.Sources[f.Name].Records
		}
		require.Equal(t, s.Records, records, "every record is counted under its data file")
	}
	// Every data file's objects are named as ExportFileObjects says.
	all, errs := dec.ExportDataFiles(ctx, inputs[0])
	require.Empty(t, errs)
	parquet := 0
	for key := range laketest.Files(t, byFiles) {
		if !strings.HasSuffix(key, ".parquet") {
			continue
		}
		parquet++
		owners := 0
		for _, f := range all {
			if strings.HasPrefix(filepath.Base(key), ExportFileObjects(inputs[0], f)) {
				owners++
			}
		}
		require.Equal(t, 1, owners, "%s: named after one data file", key)
	}
	require.Equal(t, sum.Files, parquet)

	// The registry is the same but for the order of its columns, which
	// follows the order the batches committed them in.
	a, b := laketest.Files(t, whole), laketest.Files(t, byFiles)
	const registry = "_ddblake/schemas/chat_messages.json"
	delete(a, registry)
	delete(b, registry)
	require.Equal(t, a, b)
	require.Equal(t, registryColumns(t, whole, "chat_messages"), registryColumns(t, byFiles, "chat_messages"))
}

// registryColumns maps each column of a table's registry to its name and
// type.
func registryColumns(t *testing.T, dir, table string) map[string]string {
	t.Helper()
	store, err := localstore.New(dir)
	require.NoError(t, err)
	s, err := NewRegistrySchemas(store).Schema(context.Background(), table)
	require.NoError(t, err)
	out := map[string]string{}
	for _, c := range s.Columns {
		out[c.Path] = c.Name + " " + c.Type.String()
	}
	require.NotEmpty(t, out)
	return out
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(bytes.TrimSpace(b)) + "\n"
}
