package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/laketest"
	"github.com/ddblake/ddblake/internal/sample"
	"github.com/ddblake/ddblake/sink/localstore"
)

// killChunk is the replay's batch size in the kill tests: small, so that
// the input makes hundreds of batches, which share files per input.
const killChunk = "8KiB"

// killInputs writes the input of the kill tests under dir: a sample set
// (every format, two tables) and jsonl files of four tables whose
// attributes come and go (NULLs, empty lists and maps before their
// columns exist, numbers that turn fractional), two of whose names
// sanitize alike, one also from a second account (set aside). It
// returns the sources to replay.
func killInputs(t *testing.T, dir string) []string {
	t.Helper()
	g, err := sample.New(sample.Config{Seed: 7, Days: 5, RoomsPerDay: 10})
	require.NoError(t, err)
	_, err = g.WriteSample(context.Background(), filepath.Join(dir, "sample"))
	require.NoError(t, err)

	rng := rand.New(rand.NewPCG(7, 9))
	type source struct{ table, account, region string }
	sources := []source{
		{"chat-messages", "111111111111", "us-east-1"},
		{"chat.messages", "111111111111", "us-east-1"},
		{"chat-events", "111111111111", "us-east-1"},
		{"chat-messages", "222222222222", "us-east-1"},
	}
	value := func() string {
		switch rng.IntN(9) {
		case 0:
			return `{"NULL":true}`
		case 1:
			return `{"L":[]}`
		case 2:
			return `{"M":{}}`
		case 3:
			return fmt.Sprintf(`{"N":"%d"}`, rng.IntN(1000))
		case 4:
			return fmt.Sprintf(`{"N":"%d.%02d"}`, rng.IntN(1000), rng.IntN(100))
		case 5:
			return fmt.Sprintf(`{"S":"s%d"}`, rng.IntN(50))
		case 6:
			return fmt.Sprintf(`{"L":[{"S":"a%d"}]}`, rng.IntN(9))
		case 7:
			return fmt.Sprintf(`{"M":{"k%d":{"N":"%d"},"z":{"NULL":true}}}`, rng.IntN(3), rng.IntN(9))
		}
		return `{"BOOL":true}`
	}
	jsonl := filepath.Join(dir, "jsonl")
	require.NoError(t, os.MkdirAll(jsonl, 0o755))
	seq := 0
	for f := range 4 {
		var b strings.Builder
		for range 150 {
			seq++
			s := sources[rng.IntN(len(sources))]
			attrs := map[string]string{"id": fmt.Sprintf(`{"S":"k%d"}`, seq%97)}
			for range 6 {
				attrs[fmt.Sprintf("a%d", (rng.IntN(12)+seq/100)%30)] = value()
			}
			// Attributes that are empty or NULL the first times they
			// appear and get a column only in a later batch or file.
			attrs[fmt.Sprintf("late%d", seq/40)] = []string{`{"NULL":true}`, `{"L":[]}`, `{"M":{}}`, `{"N":"7"}`}[min(seq%40/8, 3)]
			attrs[fmt.Sprintf("next%d", f)] = `{"NULL":true}`
			if f > 0 {
				attrs[fmt.Sprintf("next%d", f-1)] = fmt.Sprintf(`{"S":"v%d"}`, seq)
			}
			var parts []string
			for _, k := range slices.Sorted(func(yield func(string) bool) {
				for k := range attrs {
					if !yield(k) {
						return
					}
				}
			}) {
				parts = append(parts, fmt.Sprintf("%q:%s", k, attrs[k]))
			}
			fmt.Fprintf(&b, `{"eventID":"e%d","eventName":"MODIFY","eventSource":"aws:dynamodb","awsRegion":%q,`+
				`"dynamodb":{"ApproximateCreationDateTime":%d,"Keys":{"id":%s},"NewImage":{%s},"SequenceNumber":"%021d","StreamViewType":"NEW_IMAGE"},`+
				`"eventSourceARN":"arn:aws:dynamodb:%s:%s:table/%s/stream/2026-01-01T00:00:00.000"}`+"\n",
				seq, s.region, 1775001600+seq*37, attrs["id"], strings.Join(parts, ","), seq, s.region, s.account, s.table)
		}
		require.NoError(t, os.WriteFile(filepath.Join(jsonl, fmt.Sprintf("changes-%d.jsonl", f)), []byte(b.String()), 0o644))
	}
	return []string{filepath.Join(dir, "sample"), jsonl, fixture("e2e", "identity", "tables.json")}
}

// killPlan is when killedReplay kills a run: once it has written files
// files (when files > 0), else once after has passed since its start.
type killPlan struct {
	files int
	after time.Duration
}

// filesPoll is how often killedReplay counts the files of a run it kills
// after a number of files: often enough that the kill lands within about
// a file of the target (a replay here writes a file every few
// milliseconds at the most), seldom enough that the counting, a walk of
// the lake, costs little.
const filesPoll = 10 * time.Millisecond

// killedReplay starts `ddblake replay --to lake args...` and kills it
// (SIGKILL) as plan says: after a time, on a timer; after a number of
// files, counting them every filesPoll. It returns the files the run had
// written when it ended, when it was killed, and whether it ended on its
// own first.
func killedReplay(t *testing.T, lake string, args []string, plan killPlan) (files int, at time.Duration, finished bool) {
	t.Helper()
	cmd := exec.Command(ddblakeBin, append([]string{"replay", "--to", lake}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_EC2_METADATA_DISABLED=true")
	start := time.Now()
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var poll, timer <-chan time.Time
	if plan.files > 0 {
		tick := time.NewTicker(filesPoll)
		defer tick.Stop()
		poll = tick.C
	} else {
		tm := time.NewTimer(plan.after)
		defer tm.Stop()
		timer = tm.C
	}
	for {
		select {
		case <-done:
			return writtenSince(lake, start), time.Since(start), true
		case <-poll:
			if writtenSince(lake, start) < plan.files {
				continue
			}
		case <-timer:
		}
		at = time.Since(start)
		if err := cmd.Process.Kill(); err != nil {
			// It ended between the poll and the kill.
			require.ErrorIs(t, err, os.ErrProcessDone)
			<-done
			return writtenSince(lake, start), time.Since(start), true
		}
		<-done
		return writtenSince(lake, start), at, false
	}
}

// writtenSince counts the visible files of the lake written at or after
// start.
func writtenSince(lake string, start time.Time) int {
	n := 0
	_ = filepath.WalkDir(lake, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		if info, err := d.Info(); err == nil && !info.ModTime().Before(start) {
			n++
		}
		return nil
	})
	return n
}

// hiddenLeftovers counts the files in progress a killed run left in the
// lake's private folder; readers never see them.
func hiddenLeftovers(lake string) int {
	entries, _ := os.ReadDir(filepath.Join(lake, localstore.PrivateDir, "tmp"))
	return len(entries)
}

// lakeRows reads every row of every table of the lake with DuckDB, as
// text, sorted: table name to rows.
func lakeRows(t *testing.T, db *sql.DB, lake string) map[string][]string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(lake, "_ddblake", "schemas"))
	require.NoError(t, err)
	out := map[string][]string{}
	for _, e := range entries {
		table, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || strings.HasPrefix(table, ".") {
			continue
		}
		if matches, _ := filepath.Glob(tableGlob(lake, table)); len(matches) == 0 {
			out[table] = nil // a table whose every record was set aside
			continue
		}
		out[table] = relationRows(t, db, tableScan(lake, table))
	}
	return out
}

// TestKillAndRerun replays a multi-file input (every format, six tables,
// hundreds of batches) and kills the replay with SIGKILL at a random
// moment, then kills a rerun of it at another, then reruns it to the
// end: every file of the lake (data, registry, quarantine) is byte for
// byte, and every row read back by DuckDB is, what a fresh replay into
// an empty lake gives. Half the rounds kill after a random number of
// written files, half after a random time. A rerun over the complete
// lake changes nothing either.
func TestKillAndRerun(t *testing.T) {
	t.Parallel()
	rounds := 4
	if testing.Short() {
		rounds = 2
	}
	sources := killInputs(t, t.TempDir())
	// An export two of whose data files fail their checks: a run killed
	// while it reads them lists no row of theirs either.
	bad := laketest.WriteBadExport(t, t.TempDir())
	sources = append(sources, bad.Dir)
	fresh := filepath.Join(t.TempDir(), "lake")
	start := time.Now()
	sum := replay(t, fresh, 3, append([]string{"--chunk-size", killChunk}, sources...)...).Summary(t)
	took := time.Since(start)
	require.Equal(t, 7, sum.Tables, "%s", sum.Line)
	require.Positive(t, sum.SetAside, "the second account's records are set aside")
	want := laketest.Files(t, fresh)
	require.Greater(t, len(want), 100, "many files (an input's batches share files)")
	db := openDuck(t)
	wantRows := lakeRows(t, db, fresh)
	rows := 0
	for _, r := range wantRows {
		rows += len(r)
	}
	require.Equal(t, sum.Rows, rows)
	require.Len(t, wantRows["chat_notes"], bad.Good, "the rows of the export's good data files only")

	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 1))
	t.Logf("kill-and-rerun: %d rounds, seed %d; a fresh replay writes %d files, %d rows, in %s", rounds, seed, len(want), rows, took.Round(time.Millisecond))
	for round := 1; round <= rounds; round++ {
		lake := filepath.Join(t.TempDir(), "lake")
		var moments []string
		for kill := 1; kill <= 2; kill++ { // a replay, then a rerun of it
			var stop killPlan
			var plan string
			if round%2 == 1 {
				stop.files = 1 + rng.IntN(len(want)-1)
				plan = fmt.Sprintf("after %d files", stop.files)
			} else {
				stop.after = time.Duration(rng.Int64N(int64(took)))
				plan = fmt.Sprintf("after %s", stop.after.Round(time.Millisecond))
			}
			files, at, finished := killedReplay(t, lake, append([]string{"--chunk-size", killChunk}, sources...), stop)
			if finished {
				moments = append(moments, fmt.Sprintf("run %d (kill planned %s) finished first, %d files", kill, plan, files))
				continue
			}
			moments = append(moments, fmt.Sprintf("run %d killed %s: at %s, %d files written", kill, plan, at.Round(time.Millisecond), files))
		}
		leftovers := hiddenLeftovers(lake)
		replay(t, lake, 3, append([]string{"--chunk-size", killChunk}, sources...)...)
		require.Zero(t, hiddenLeftovers(lake), "round %d: the rerun removes what the killed runs left in progress", round)
		require.Equal(t, want, laketest.Files(t, lake), "round %d: %s", round, strings.Join(moments, "; "))
		require.Equal(t, wantRows, lakeRows(t, db, lake), "round %d", round)
		t.Logf("round %d: %s; %d temporary file(s) left behind; rerun to the end: identical", round, strings.Join(moments, "; "), leftovers)
	}

	replay(t, fresh, 3, append([]string{"--chunk-size", killChunk}, sources...)...)
	require.Equal(t, want, laketest.Files(t, fresh), "a rerun over the complete lake changes nothing")
}

// TestKillJoinedReplay kills, with SIGKILL at random moments, replays of
// one large input whose batches are joined into files of the target size
// (hundreds of batches, tables whose attributes come and go, one hourly
// table spread over more partitions than the replay keeps files open),
// then a rerun of it, then reruns it to the end: the lake is byte for
// byte, and row for row as DuckDB reads it through the manifests, what a
// fresh replay gives, and a killed run lists nothing.
func TestKillJoinedReplay(t *testing.T) {
	t.Parallel()
	rounds := 2
	if testing.Short() {
		rounds = 1
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "ddblake.yaml")
	require.NoError(t, os.WriteFile(config, []byte(joinedConfig), 0o644))
	args := []string{"--config", config, "--chunk-size", "16KiB", sparseInput(t, dir, 6000, 80)}
	fresh := filepath.Join(t.TempDir(), "lake")
	start := time.Now()
	sum := replay(t, fresh, 0, args...).Summary(t)
	took := time.Since(start)
	want := laketest.Files(t, fresh)
	db := openDuck(t)
	wantRows, files := listedLakeRows(t, db, fresh)
	require.Equal(t, 6000, sum.Rows)
	require.Greater(t, files, 100, "files cut by the bound on open files and the share of nulls")

	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 2))
	t.Logf("kill a joined replay: %d rounds, seed %d; a fresh replay writes %d data files in %s", rounds, seed, files, took.Round(time.Millisecond))
	for round := 1; round <= rounds; round++ {
		lake := filepath.Join(t.TempDir(), "lake")
		var moments []string
		for kill := 1; kill <= 2; kill++ {
			var stop killPlan
			if (round+kill)%2 == 0 {
				stop.files = 1 + rng.IntN(files)
			} else {
				stop.after = time.Duration(rng.Int64N(int64(took)))
			}
			n, at, finished := killedReplay(t, lake, args, stop)
			if finished {
				moments = append(moments, fmt.Sprintf("run %d finished first", kill))
				continue
			}
			moments = append(moments, fmt.Sprintf("run %d killed at %s, %d files written", kill, at.Round(time.Millisecond), n))
			if kill == 1 {
				rows, _ := listedLakeRows(t, db, lake)
				for table, r := range rows {
					require.Empty(t, r, "round %d: a killed run lists nothing of %s", round, table)
				}
			}
		}
		replay(t, lake, 0, args...)
		require.Zero(t, hiddenLeftovers(lake), "round %d", round)
		require.Equal(t, want, laketest.Files(t, lake), "round %d: %s", round, strings.Join(moments, "; "))
		rows, _ := listedLakeRows(t, db, lake)
		require.Equal(t, wantRows, rows, "round %d", round)
		t.Logf("round %d: %s; rerun to the end: identical", round, strings.Join(moments, "; "))
	}
}
