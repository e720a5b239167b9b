package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/e2e/lakeviews"
	"github.com/ddblake/ddblake/internal/sample"
	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/latest"
	"github.com/ddblake/ddblake/sink/localstore"
)

// latestViews defines the lake's views in db (see lakeviews) and returns,
// for table, the rows of its latest view and the rows the latest view
// over the whole table gives (LatestSelect over the table's view), each
// as sorted text, with what lakeviews read.
func latestViews(t *testing.T, db *sql.DB, lake, table string) (got, want []string, info lakeviews.Table) {
	t.Helper()
	tables, err := lakeviews.Define(context.Background(), db, lake, io.Discard)
	require.NoError(t, err)
	for _, tb := range tables {
		if tb.Schema.Table == table {
			info = tb
		}
	}
	require.NotNil(t, info.Schema, "table %s", table)
	plain, err := schemas.LatestSelect(info.Schema, sqlIdent(table))
	require.NoError(t, err)
	return relationRows(t, db, sqlIdent(schemas.LatestViewName(table))), relationRows(t, db, "("+plain+")"), info
}

// latestBuild runs `ddblake latest` over the lake through day.
func latestBuild(t *testing.T, lake, through string) result {
	t.Helper()
	res := ddblake(t, filepath.Dir(lake), "latest", "--lake", lake, "--through", through)
	require.Equal(t, 0, res.Code, res.Stderr)
	return res
}

// athenaLatest runs the latest view `ddblake ddl` prints for table on
// DuckDB, over the table's listed files and a state table of every
// generation in the lake (as Athena would read them), and returns its
// rows.
func athenaLatest(t *testing.T, db *sql.DB, lake, table string) []string {
	t.Helper()
	res := ddblake(t, filepath.Dir(lake), "ddl", "--lake", lake, "--location", "s3://e2e-bucket/lake")
	require.Equal(t, 0, res.Code, res.Stderr)
	ctx := context.Background()
	s := loadSchema(t, lake, table)
	// As Athena reads them: every column of the registry, nulls where a
	// file has none.
	mustExec(t, db, `CREATE SCHEMA IF NOT EXISTS "ddblake"`)
	plain, err := lakeviews.Padded(ctx, db, s, listedScan(t, lake, table))
	require.NoError(t, err)
	mustExec(t, db, `CREATE OR REPLACE VIEW "ddblake".`+sqlIdent(table)+` AS SELECT * FROM `+plain)
	glob := filepath.ToSlash(filepath.Join(lake, "_ddblake", "latest", table, "*", "live", "*.parquet"))
	files := `(SELECT *, regexp_extract(filename, '/(g[0-9]{6}-[0-9a-f]{16})/live/', 1) AS "_generation" ` +
		`FROM read_parquet(` + sqlString(glob) + `, filename = true, union_by_name = true, hive_partitioning = false))`
	state, err := lakeviews.Padded(ctx, db, s, files)
	require.NoError(t, err)
	state = strings.Replace(state, " FROM ", `, "_generation" FROM `, 1)
	mustExec(t, db, `CREATE OR REPLACE VIEW "ddblake".`+sqlIdent(schemas.StateTableName(table))+` AS SELECT * FROM `+state)
	view := viewStatement(t, res.Stdout, `"ddblake".`+sqlIdent(schemas.LatestViewName(table)))
	require.Contains(t, view, schemas.StateTableName(table), "the view reads the state")
	mustExec(t, db, view)
	return relationRows(t, db, `"ddblake".`+sqlIdent(schemas.LatestViewName(table)))
}

// TestMaterializedLatestScripted replays the scripted history file by
// file, latest day first, so that nearly every file lands late in days a
// state already covers, and builds the state after each: the latest view
// over the state always shows what the view over the whole table shows,
// before the build (late files read beside the state) and after it, and
// the view `ddblake ddl` prints does too. In the end both hold what the
// history leaves in the DynamoDB table.
func TestMaterializedLatestScripted(t *testing.T) {
	t.Parallel()
	files := historyFilesOnDisk(t)
	lake := filepath.Join(t.TempDir(), "lake")
	const table = "e2e_history"
	db := openDuck(t)
	through := "2026-04-04"
	for i, f := range files {
		replay(t, lake, 0, f)
		if i > 0 {
			got, want, info := latestViews(t, db, lake, table)
			require.Equal(t, want, got, "after %s, before the build", filepath.Base(f))
			require.NotNil(t, info.State)
		}
		if i == len(files)/2 {
			// A build through a day before: later days are read beside it.
			latestBuild(t, lake, "2026-04-02")
			got, want, info := latestViews(t, db, lake, table)
			require.Equal(t, want, got)
			require.Equal(t, "2026-04-02", info.State.Through)
		}
		latestBuild(t, lake, through)
		got, want, info := latestViews(t, db, lake, table)
		require.Equal(t, want, got, "after %s and the build", filepath.Base(f))
		require.Empty(t, info.Late)
		require.Equal(t, want, athenaLatest(t, db, lake, table), "the ddl view after %s", filepath.Base(f))
	}
	recs := readFixtures(t, "", files...)
	reg := readRegistry(t, lake, table)
	_, rows := queryRows(t, db, selectWithText(reg, describe(t, db, sqlIdent(table+"_latest")), sqlIdent(table+"_latest")))
	assertLatest(t, reg, reg.Keys, expectedLatest(t, reg, reg.Keys, recs), rows)
}

// dayFiles sorts Lambda event files by the day of their first record.
func dayFiles(t *testing.T, dir string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var ev struct {
			Records []struct {
				Dynamodb struct {
					ApproximateCreationDateTime json.Number
				} `json:"dynamodb"`
			}
		}
		if err := json.Unmarshal(b, &ev); err != nil {
			return err
		}
		sec, err := ev.Records[0].Dynamodb.ApproximateCreationDateTime.Float64()
		if err != nil {
			return err
		}
		day := time.Unix(int64(sec), 0).UTC().Format(time.DateOnly)
		out[day] = append(out[day], p)
		return nil
	}))
	for _, fs := range out {
		sort.Strings(fs)
	}
	return out
}

// TestMaterializedLatestDays plays days of chat traffic (nine; thirty
// for the figures of the docs) as
// Lambda batches, day after day, one batch in five three days late, and
// builds the state through the day before each day: the latest view over
// the state shows what the view over the whole table shows at every step
// (after the writes, after a compaction, after a build killed midway, and
// after a build), and so does the view `ddblake ddl` prints after each
// build. It reports the bytes each view reads on the last day.
func TestMaterializedLatestDays(t *testing.T) {
	t.Parallel()
	days, rooms := 9, 12
	if testing.Short() {
		days = 6
	}
	// DDBLAKE_FIGURE_DAYS=30 DDBLAKE_FIGURE_ROOMS=N size it for the figures
	// of the docs.
	if n, err := strconv.Atoi(os.Getenv("DDBLAKE_FIGURE_DAYS")); err == nil && n > 0 {
		days = n
	}
	if n, err := strconv.Atoi(os.Getenv("DDBLAKE_FIGURE_ROOMS")); err == nil && n > 0 {
		rooms = n
	}
	events, _ := lambdaHistory(t, sample.Config{Seed: 3, Days: days, RoomsPerDay: rooms}, 40)
	byDay := dayFiles(t, events)
	lake := filepath.Join(t.TempDir(), "lake")
	db := openDuck(t)
	tables := []string{"chat_messages", "chat_rooms"}
	check := func(when string) {
		t.Helper()
		for _, table := range tables {
			got, want, _ := latestViews(t, db, lake, table)
			require.NotEmpty(t, want)
			require.Equal(t, want, got, "%s: %s", table, when)
		}
	}
	start := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	late := map[int][]string{} // files held back, by the day they land
	for d := 0; d < days; d++ {
		day := start.AddDate(0, 0, d).Format(time.DateOnly)
		var now []string
		for i, f := range byDay[day] {
			if i%5 == 4 && d+3 < days {
				late[d+3] = append(late[d+3], f)
				continue
			}
			now = append(now, f)
		}
		now = append(now, late[d]...)
		if len(now) == 0 {
			continue
		}
		replay(t, lake, 0, now...)
		if d == 0 {
			continue
		}
		check("day " + day + " written")
		switch d % 7 {
		case 3:
			res := ddblake(t, filepath.Dir(lake), "compact", "--lake", lake, "--dt", "2026-04-01.."+day, "--force")
			require.Equal(t, 0, res.Code, res.Stderr)
			check("day " + day + " compacted")
		case 5:
			killedLatest(t, lake, start.AddDate(0, 0, d-1).Format(time.DateOnly))
			check("day " + day + ": a build killed midway")
		}
		latestBuild(t, lake, start.AddDate(0, 0, d-1).Format(time.DateOnly))
		check("day " + day + " built")
		if d%4 == 0 {
			for _, table := range tables {
				_, want, _ := latestViews(t, db, lake, table)
				require.Equal(t, want, athenaLatest(t, db, lake, table), "%s: the ddl view, day %s", table, day)
			}
		}
	}
	for _, table := range tables {
		got, want, info := latestViews(t, db, lake, table)
		require.Equal(t, want, got)
		require.Equal(t, want, athenaLatest(t, db, lake, table))
		plain, materialized := filesBytes(t, lake, info.Files), filesBytes(t, lake, info.LatestFiles)
		t.Logf("figure: %s over %d days: the plain latest view reads %d files, %d bytes; over the state (%d items, through %s) %d files, %d bytes (%.1f%%)",
			table, days, len(info.Files), plain, info.State.Items, info.State.Through, len(info.LatestFiles), materialized, 100*float64(materialized)/float64(plain))
		require.Less(t, materialized, plain)
	}
}

// filesBytes sums the sizes of lake files.
func filesBytes(t *testing.T, lake string, keys []string) int64 {
	t.Helper()
	var n int64
	for _, k := range keys {
		fi, err := os.Stat(filepath.Join(lake, filepath.FromSlash(k)))
		require.NoError(t, err)
		n += fi.Size()
	}
	return n
}

// killedLatest starts `ddblake latest` and kills it (SIGKILL) once it has
// written its first file of a new generation, or lets it end.
func killedLatest(t *testing.T, lake, through string) {
	t.Helper()
	st, err := localstore.New(lake)
	require.NoError(t, err)
	before := map[string]bool{}
	objs, err := st.List(context.Background(), latest.Prefix)
	require.NoError(t, err)
	for _, o := range objs {
		before[o.Key] = true
	}
	cmd := exec.Command(ddblakeBin, "latest", "--lake", lake, "--through", through)
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for {
		select {
		case <-exited:
			return
		case <-time.After(time.Millisecond):
		}
		objs, err := st.List(context.Background(), latest.Prefix)
		require.NoError(t, err)
		if slices.ContainsFunc(objs, func(o sink.Object) bool { return !before[o.Key] && strings.HasSuffix(o.Key, ".parquet") }) {
			if err := cmd.Process.Kill(); err != nil {
				require.ErrorIs(t, err, os.ErrProcessDone) // it ended meanwhile
			}
			<-exited
			return
		}
	}
}
