package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/laketest"
	"github.com/ddblake/ddblake/internal/sample"
	"github.com/ddblake/ddblake/sink/localstore"
	"github.com/ddblake/ddblake/sink/manifest"
)

// listedKeys returns the files a table's manifests list, and their total
// size: what a query of the table reads.
func listedKeys(t *testing.T, lake, table string) ([]string, int64) {
	t.Helper()
	st, err := localstore.New(lake)
	require.NoError(t, err)
	keys, _, err := manifest.Files(context.Background(), st, table)
	require.NoError(t, err)
	var size int64
	for _, k := range keys {
		fi, err := os.Stat(filepath.Join(lake, filepath.FromSlash(k)))
		require.NoError(t, err)
		size += fi.Size()
	}
	return keys, size
}

// scanOf is the DuckDB relation of files of a lake (keys), with the
// partition columns from their folders, as lakequery reads a table.
func scanOf(lake string, keys []string, hourly bool) string {
	paths := make([]string, len(keys))
	for i, k := range keys {
		paths[i] = sqlString(filepath.ToSlash(filepath.Join(lake, k)))
	}
	types := "{'dt': VARCHAR}"
	if hourly {
		types = "{'dt': VARCHAR, 'hr': VARCHAR}"
	}
	return "read_parquet([" + strings.Join(paths, ", ") + "], hive_partitioning = true, union_by_name = true, hive_types = " + types + ")"
}

// listedScan is the relation of a lake table as Athena reads it: the
// files its manifests list.
func listedScan(t *testing.T, lake, table string) string {
	t.Helper()
	keys, _ := listedKeys(t, lake, table)
	require.NotEmpty(t, keys, "table %s lists files", table)
	return scanOf(lake, keys, false)
}

// relationRows reads every row of a relation as text, sorted; columns
// are taken by name, so relations with their columns in other orders
// compare.
func relationRows(t *testing.T, db *sql.DB, relation string) []string {
	t.Helper()
	cols, rows := queryRows(t, db, "SELECT * FROM "+relation)
	slices.Sort(cols)
	lines := make([]string, 0, len(rows))
	for _, r := range rows {
		var b strings.Builder
		for _, c := range cols {
			fmt.Fprintf(&b, "%s=%v|", c, r[c])
		}
		lines = append(lines, b.String())
	}
	slices.Sort(lines)
	return lines
}

// lambdaHistory writes a history of days as Lambda events of batch
// records each, and returns the folder and the number of records.
func lambdaHistory(t *testing.T, cfg sample.Config, batch int) (string, int) {
	t.Helper()
	g, err := sample.New(cfg)
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "events")
	files, err := g.WriteLambdaHistory(context.Background(), dir, batch)
	require.NoError(t, err)
	n := 0
	for _, f := range files {
		n += f.Records
	}
	return dir, n
}

// tableFiles counts the Parquet objects of a table, listed or not.
func tableFiles(t *testing.T, lake, table string) int {
	t.Helper()
	n := 0
	require.NoError(t, filepath.WalkDir(filepath.Join(lake, table), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".parquet") {
			n++
		}
		return err
	}))
	return n
}

// sinkDefaultFileBytes is the default target size (sink.DefaultFileBytes).
const sinkDefaultFileBytes = 128 << 20

// TestCompactionOnDuckDB builds the lake a Lambda builds from a day of
// chat traffic (one small file per batch and partition), compacts it, and
// reads both tables with DuckDB through their manifests before and after:
// the same rows, in far fewer files and bytes. A second run changes
// nothing; the replaced files go once the grace time is over.
func TestCompactionOnDuckDB(t *testing.T) {
	t.Parallel()
	cfg, batch := sample.Config{Seed: 11, Days: 1, RoomsPerDay: 400}, 100
	if testing.Short() {
		cfg.RoomsPerDay = 60
	}
	// DDBLAKE_FIGURE_ROOMS=N sizes the day for the figures of the docs.
	if n, err := strconv.Atoi(os.Getenv("DDBLAKE_FIGURE_ROOMS")); err == nil && n > 0 {
		cfg.RoomsPerDay = n
	}
	events, records := lambdaHistory(t, cfg, batch)
	lake := filepath.Join(t.TempDir(), "lake")
	replay(t, lake, 0, events)

	db := openDuck(t)
	tables := []string{"chat_messages", "chat_rooms"}
	before := map[string][]string{}
	total := 0
	// The figures: the files a query of the table reads, and their
	// bytes (what a full scan reads; Athena bills the columns it reads).
	figure := func(when, table string, rows int) {
		keys, size := listedKeys(t, lake, table)
		t.Logf("figure: %s compaction: %s: %d rows in %d files, %d bytes", when, table, rows, len(keys), size)
	}
	for _, table := range tables {
		before[table] = relationRows(t, db, listedScan(t, lake, table))
		total += len(before[table])
		figure("before", table, len(before[table]))
	}
	require.Equal(t, records, total, "every record is a row")

	res := ddblake(t, filepath.Dir(lake), "compact", "--lake", lake)
	require.Equal(t, 0, res.Code, res.Stderr)
	for _, table := range tables {
		keys, size := listedKeys(t, lake, table)
		after := relationRows(t, db, listedScan(t, lake, table))
		require.Equal(t, before[table], after, "%s: DuckDB reads the same rows after compaction", table)
		days := map[string]bool{}
		for _, k := range keys {
			require.True(t, manifest.IsCompacted(k) || len(keys) <= 2, k)
			days[strings.Split(k, "/")[1]] = true
		}
		require.Len(t, keys, len(days), "%s: one file per partition", table)
		require.Less(t, size, int64(sinkDefaultFileBytes), "%s: small enough for one file", table)
		figure("after", table, len(after))
	}

	state := laketest.Files(t, lake)
	res = ddblake(t, filepath.Dir(lake), "compact", "--lake", lake)
	require.Equal(t, 0, res.Code, res.Stderr)
	require.Contains(t, res.Stderr, ", 0 compacted;")
	require.Equal(t, state, laketest.Files(t, lake), "a second run changes nothing")

	res = ddblake(t, filepath.Dir(lake), "compact", "--lake", lake, "--grace", "0s")
	require.Equal(t, 0, res.Code, res.Stderr)
	for _, table := range tables {
		keys, _ := listedKeys(t, lake, table)
		require.Equal(t, len(keys), tableFiles(t, lake, table), "%s: only the compacted files remain", table)
		require.Equal(t, before[table], relationRows(t, db, listedScan(t, lake, table)))
	}
}

// compactedState is what a compaction leaves: every file of the lake but
// the compaction records, and the records' claims without their times.
func compactedState(t *testing.T, lake string) (map[string]string, map[string][]string) {
	t.Helper()
	files := laketest.Files(t, lake)
	claims := map[string][]string{}
	for k := range files {
		rest, ok := strings.CutPrefix(k, manifest.RecordsPrefix)
		if !ok {
			continue
		}
		delete(files, k)
		table, part, _ := strings.Cut(strings.TrimSuffix(rest, ".json"), "/")
		p, ok := manifest.ParsePartition(part)
		require.True(t, ok, k)
		st, err := localstore.New(lake)
		require.NoError(t, err)
		rec, _, err := manifest.ReadRecord(context.Background(), st, table, p)
		require.NoError(t, err)
		for _, c := range rec.Claims {
			require.False(t, c.Switched.IsZero(), "no claim is left pending: %s", c.Output)
			claims[c.Output] = c.Sources
		}
	}
	return files, claims
}

// TestCompactionKilled kills `ddblake compact` (SIGKILL) at random
// moments: whenever it is killed, DuckDB reads the same rows through the
// manifests, and a rerun finishes with the lake an uninterrupted run
// gives.
func TestCompactionKilled(t *testing.T) {
	t.Parallel()
	events, _ := lambdaHistory(t, sample.Config{Seed: 5, Days: 2, RoomsPerDay: 40}, 20)
	base := filepath.Join(t.TempDir(), "lake")
	replay(t, base, 0, events)
	db := openDuck(t)
	tables := []string{"chat_messages", "chat_rooms"}
	want := map[string][]string{}
	for _, table := range tables {
		want[table] = relationRows(t, db, listedScan(t, base, table))
	}
	ref := filepath.Join(t.TempDir(), "ref")
	require.NoError(t, os.CopyFS(ref, os.DirFS(base)))
	res := ddblake(t, filepath.Dir(ref), "compact", "--lake", ref, "--grace", "0s")
	require.Equal(t, 0, res.Code, res.Stderr)
	done, doneClaims := compactedState(t, ref)

	rounds := 6
	if testing.Short() {
		rounds = 2
	}
	killed := 0
	for round := range rounds {
		lake := filepath.Join(t.TempDir(), "lake")
		require.NoError(t, os.CopyFS(lake, os.DirFS(base)))
		cmd := exec.Command(ddblakeBin, "compact", "--lake", lake, "--grace", "0s")
		cmd.Env = append(os.Environ(), "AWS_EC2_METADATA_DISABLED=true")
		require.NoError(t, cmd.Start())
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		// Kill once the run has written a few objects: a claim, an
		// output, a manifest switch... later in each round.
		start := time.Now()
		stopAt := 1 + round*3
		for {
			select {
			case <-exited:
				t.Logf("round %d: the run ended before its kill", round)
			case <-time.After(time.Millisecond):
				if writtenSince(lake, start) < stopAt {
					continue
				}
				if err := cmd.Process.Kill(); err != nil {
					require.ErrorIs(t, err, os.ErrProcessDone) // it ended meanwhile
					<-exited
					t.Logf("round %d: the run ended before its kill", round)
					break
				}
				<-exited
				killed++
			}
			break
		}
		for _, table := range tables {
			require.Equal(t, want[table], relationRows(t, db, listedScan(t, lake, table)), "round %d: %s after the kill", round, table)
		}
		res := ddblake(t, filepath.Dir(lake), "compact", "--lake", lake, "--grace", "0s")
		require.Equal(t, 0, res.Code, res.Stderr)
		for _, table := range tables {
			require.Equal(t, want[table], relationRows(t, db, listedScan(t, lake, table)), "round %d: %s after the rerun", round, table)
		}
		files, claims := compactedState(t, lake)
		require.Equal(t, done, files, "round %d: the rerun ends where an uninterrupted run does", round)
		require.Equal(t, doneClaims, claims, "round %d: with the same claims", round)
	}
	require.Positive(t, killed)
}

// TestQueriesDuringCompaction runs the Lambda's writes (replays of new
// batches, which list their files when they end) and forced compactions
// at once, while DuckDB queries the table through its manifests over and
// over: no query counts a row twice, none misses a row an earlier query
// saw, and in the end every record is there once.
func TestQueriesDuringCompaction(t *testing.T) {
	t.Parallel()
	events, records := lambdaHistory(t, sample.Config{Seed: 9, Days: 1, RoomsPerDay: 60}, 25)
	dirs, err := filepath.Glob(filepath.Join(events, "lambda", "*", "shard-*"))
	require.NoError(t, err)
	var files []string
	for _, d := range dirs {
		fs, err := filepath.Glob(filepath.Join(d, "*.json"))
		require.NoError(t, err)
		files = append(files, fs...)
	}
	slices.Sort(files)
	require.Greater(t, len(files), 20)
	lake := filepath.Join(t.TempDir(), "lake")
	replay(t, lake, 0, files[:5]...)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // the Lambda: batch after batch
		defer wg.Done()
		defer cancel()
		for i := 5; i < len(files); i += 3 {
			end := min(i+3, len(files))
			cmd := exec.Command(ddblakeBin, append([]string{"replay", "--to", lake}, files[i:end]...)...)
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("replay: %v: %s", err, out)
				return
			}
		}
	}()
	go func() { // compaction, over and over
		defer wg.Done()
		for ctx.Err() == nil {
			cmd := exec.Command(ddblakeBin, "compact", "--lake", lake, "--force")
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("compact: %v: %s", err, out)
				return
			}
		}
	}()
	db := openDuck(t)
	seen := map[string]int{"chat_messages": 0, "chat_rooms": 0}
	queries := 0
	for ctx.Err() == nil {
		for table, prev := range seen {
			keys, _ := listedKeys(t, lake, table)
			if len(keys) == 0 {
				continue
			}
			q := "WITH r AS (SELECT _event_id, _sequence_number FROM " + scanOf(lake, keys, false) + ") " +
				"SELECT (SELECT count(*) FROM r) AS n, (SELECT count(*) FROM (SELECT DISTINCT * FROM r)) AS u"
			_, rows := queryRows(t, db, q)
			n, u := rows[0]["n"].(int64), rows[0]["u"].(int64)
			require.Equal(t, n, u, "%s: no row counted twice", table)
			require.GreaterOrEqual(t, int(n), prev, "%s: no row seen before is missed", table)
			seen[table] = int(n)
			queries++
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	res := ddblake(t, filepath.Dir(lake), "compact", "--lake", lake, "--force")
	require.Equal(t, 0, res.Code, res.Stderr)
	total := 0
	for table := range seen {
		total += countRows(t, db, "SELECT count(*) FROM "+listedScan(t, lake, table))
	}
	require.Equal(t, records, total, "every record once")
	t.Logf("%d queries during the writes and compactions", queries)
}
