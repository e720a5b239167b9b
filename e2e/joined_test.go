package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/laketest"
	"github.com/ddblake/ddblake/pipeline"
	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/sink/direct"
	"github.com/ddblake/ddblake/sink/localstore"
)

// joinedConfig partitions e2e-sparse-hourly by hour and makes files of 1 MiB,
// the least target the configuration takes, so that inputs of a few
// megabytes make several files per partition.
const joinedConfig = `defaults:
  target_file_size: 1MiB
tables:
  e2e-sparse-hourly:
    partition: hour
    target_file_size: 1MiB
`

// sparseInput writes one jsonl file of n stream records of two tables
// over three days (e2e-sparse in time order, e2e-sparse-hourly spread
// over the first hours hours of them, out of order), each record with a few of sixty attributes:
// integers, numbers with decimals, strings, lists, maps keyed by user
// ids, NULLs. Batches of it use different columns, and touch many
// partitions (more than the replay keeps files open, with hours > 64).
func sparseInput(t *testing.T, dir string, n, hours int) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(21, 12))
	var b strings.Builder
	for i := range n {
		table := "e2e-sparse"
		sec := i * 259200 / n // three days, in order
		if i%3 == 0 {
			table = "e2e-sparse-hourly"
			sec = rng.IntN(hours * 3600) // any of those hours
		}
		image := map[string]any{"id": map[string]string{"S": fmt.Sprintf("k%d", i%997)}}
		for range 3 + rng.IntN(4) {
			a := (rng.IntN(20) + i/(n/3+1)*20) % 60 // each day its own attributes, mostly
			var v any
			switch a % 6 {
			case 0:
				v = map[string]string{"N": fmt.Sprint(rng.IntN(1e6))}
			case 1:
				v = map[string]string{"N": fmt.Sprintf("%d.%02d", rng.IntN(1e4), rng.IntN(100))}
			case 2:
				v = map[string]string{"S": fmt.Sprintf("s%d ✓", rng.IntN(1e5))}
			case 3:
				v = map[string]any{"L": []any{map[string]string{"S": "x"}, map[string]string{"N": fmt.Sprint(rng.IntN(9))}}}
			case 4:
				readBy := map[string]any{}
				for range 1 + rng.IntN(3) {
					readBy[fmt.Sprintf("u%07d", rng.IntN(5000))] = map[string]string{"N": fmt.Sprint(1775001600000 + rng.IntN(1e6))}
				}
				v = map[string]any{"M": readBy}
			default:
				v = map[string]bool{"NULL": true}
			}
			image[fmt.Sprintf("a%02d", a)] = v
		}
		rec := map[string]any{
			"eventID": fmt.Sprintf("e%d", i), "eventName": "MODIFY", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
			"dynamodb": map[string]any{
				"ApproximateCreationDateTime": 1775001600 + sec,
				"Keys":                        map[string]any{"id": image["id"]},
				"NewImage":                    image,
				"SequenceNumber":              fmt.Sprintf("%021d", i+1),
				"StreamViewType":              "NEW_IMAGE",
			},
			"eventSourceARN": "arn:aws:dynamodb:us-east-1:111111111111:table/" + table + "/stream/2026-01-01T00:00:00.000",
		}
		line, err := json.Marshal(rec)
		require.NoError(t, err)
		b.Write(line)
		b.WriteByte('\n')
	}
	p := filepath.Join(dir, "sparse.jsonl")
	require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o644))
	return p
}

// replayPerBatch replays sources in process as the replay command did
// before it joined batches: a file per batch and partition, listed at the
// end.
func replayPerBatch(t *testing.T, lake, config string, chunk int64, sources ...string) pipeline.Summary {
	t.Helper()
	ctx := context.Background()
	cfg, err := pipeline.ParseConfig([]byte(config))
	require.NoError(t, err)
	store, err := localstore.New(lake)
	require.NoError(t, err)
	inputs, err := (&decode.Resolver{}).Resolve(ctx, sources...)
	require.NoError(t, err)
	dest := direct.NewDeferred(store)
	r := &pipeline.Replay{
		Processor:  &pipeline.Processor{Config: cfg, Schemas: pipeline.NewRegistrySchemas(store), Destination: dest, Quarantine: pipeline.NewLakeErrors(store)},
		Inputs:     pipeline.NewLakeErrors(store),
		Workers:    2,
		ChunkBytes: chunk,
	}
	sum, err := r.Run(ctx, inputs)
	require.NoError(t, err)
	require.NoError(t, dest.Flush(ctx))
	return sum
}

// listedLakeRows reads every table of a lake with DuckDB through its
// manifests, as Athena reads it (partition columns included): table name
// to its rows as text, sorted; and the number of files listed.
func listedLakeRows(t *testing.T, db *sql.DB, lake string) (map[string][]string, int) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(lake, "_ddblake", "schemas"))
	require.NoError(t, err)
	out := map[string][]string{}
	files := 0
	for _, e := range entries {
		table, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || strings.HasPrefix(table, ".") {
			continue
		}
		keys, _ := listedKeys(t, lake, table)
		files += len(keys)
		if len(keys) == 0 {
			out[table] = nil
			continue
		}
		hourly := strings.Contains(keys[0], "/hr=")
		out[table] = relationRows(t, db, scanOf(lake, keys, hourly))
	}
	return out, files
}

// nullChunks counts, with DuckDB's parquet_metadata, the column chunks of
// data columns (not the metadata columns, which every file holds) of the
// lake's listed files that hold only nulls: those a joined file holds for
// the columns some of its batches lack (a batch's own file holds only the
// data columns its rows use).
func nullChunks(t *testing.T, db *sql.DB, lake string, tables ...string) int {
	t.Helper()
	var paths []string
	for _, table := range tables {
		keys, _ := listedKeys(t, lake, table)
		for _, k := range keys {
			paths = append(paths, sqlString(filepath.ToSlash(filepath.Join(lake, k))))
		}
	}
	var n int
	require.NoError(t, db.QueryRow("SELECT count(*) FROM parquet_metadata(["+strings.Join(paths, ", ")+
		"]) WHERE num_values > 0 AND stats_null_count = num_values AND NOT starts_with(path_in_schema, '_')").Scan(&n))
	return n
}

// TestJoinedReplayReadsAsPerBatch replays inputs of many small batches
// (every input format, tables whose attributes come and go, decimals,
// lists, maps keyed by ids and emoji, an hourly table) with the replay
// command, which joins each input's batches, and in process a file per
// batch: DuckDB reads the same rows from both lakes through their
// manifests (NULL where a batch's file lacked a column), the registry and
// the quarantine are the same bytes, and the joined lake has far fewer
// files.
func TestJoinedReplayReadsAsPerBatch(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sources := killInputs(t, filepath.Join(dir, "in"))
	maps, _ := mapsInput(t, filepath.Join(dir, "in"), 2, 300)
	sources = append(sources, maps...)
	sources = append(sources, sparseInput(t, filepath.Join(dir, "in"), 4000, 24))
	config := filepath.Join(dir, "ddblake.yaml")
	require.NoError(t, os.WriteFile(config, []byte(joinedConfig), 0o644))
	const chunk = 64 << 10

	perBatch := filepath.Join(dir, "per-batch")
	want := replayPerBatch(t, perBatch, joinedConfig, chunk, sources...)
	joined := filepath.Join(dir, "joined")
	got := replay(t, joined, 3, append([]string{"--config", config, "--chunk-size", "64KiB"}, sources...)...).Summary(t)
	require.Equal(t, want.Rows, got.Rows)

	db := openDuck(t)
	wantRows, batchFiles := listedLakeRows(t, db, perBatch)
	gotRows, files := listedLakeRows(t, db, joined)
	require.Equal(t, wantRows, gotRows, "row for row")
	require.Len(t, gotRows["e2e_sparse"], 4000*2/3)
	require.Len(t, gotRows["e2e_sparse_hourly"], 4000/3+1)
	require.Contains(t, gotRows, "e2e_maps")
	// The sample's inputs are one batch each: their files are the
	// batches'. The large inputs' batches share files.
	for _, table := range []string{"e2e_sparse", "e2e_sparse_hourly", "e2e_maps"} {
		joinedKeys, _ := listedKeys(t, joined, table)
		batchKeys, _ := listedKeys(t, perBatch, table)
		t.Logf("%s: %d files joined from %d", table, len(joinedKeys), len(batchKeys))
		require.Less(t, len(joinedKeys)*3, len(batchKeys), table)
	}
	nulls := nullChunks(t, db, joined, "e2e_sparse", "e2e_sparse_hourly", "e2e_maps")
	require.Positive(t, nulls, "files whose batches used different columns")
	require.Zero(t, nullChunks(t, db, perBatch, "e2e_sparse", "e2e_sparse_hourly", "e2e_maps"), "a batch's file holds only columns its rows use")
	t.Logf("%d rows in %d files (a file per batch and partition: %d), %d column chunks of nulls", got.Rows, files, batchFiles, nulls)

	private := func(lake string) map[string]string {
		out := map[string]string{}
		for k, v := range laketest.Files(t, lake) {
			if strings.HasPrefix(k, "_ddblake/") || strings.HasPrefix(k, "_errors/") {
				out[k] = v
			}
		}
		return out
	}
	require.Equal(t, private(perBatch), private(joined), "the registry and the quarantine")
}
