package e2e

import (
	"database/sql"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/schemas"
)

// expectedLatest applies the history in order of event time (as the lake
// stores it, in milliseconds), then sequence number (as numbers; exports
// have none and come first), and returns the last change of every live item
// by key (see recordKey). Redelivered events (same eventID) are applied once.
func expectedLatest(t *testing.T, reg *registry, keyAttrs []string, recs []expRecord) map[string]expRecord {
	t.Helper()
	seen := map[string]bool{}
	var uniq []expRecord
	for _, r := range recs {
		if r.EventID == "" || !seen[r.EventID] {
			seen[r.EventID] = true
			uniq = append(uniq, r)
		}
	}
	seqOf := func(r expRecord) *big.Int {
		if r.Seq == "" {
			return big.NewInt(-1)
		}
		n, ok := new(big.Int).SetString(r.Seq, 10)
		require.True(t, ok, r.Seq)
		return n
	}
	sort.SliceStable(uniq, func(i, j int) bool {
		if uniq[i].Millis() != uniq[j].Millis() {
			return uniq[i].Millis() < uniq[j].Millis()
		}
		return seqOf(uniq[i]).Cmp(seqOf(uniq[j])) < 0
	})
	state := map[string]expRecord{}
	for _, r := range uniq {
		key := recordKey(t, reg, keyAttrs, r)
		if r.Event == "REMOVE" {
			delete(state, key)
			continue
		}
		state[key] = r
	}
	return state
}

// recordKey renders the key of a record's item in the canonical forms of
// its key columns.
func recordKey(t *testing.T, reg *registry, keyAttrs []string, r expRecord) string {
	t.Helper()
	var parts []string
	for _, k := range keyAttrs {
		col, ok := reg.column(k)
		require.True(t, ok, "key %s has a column", k)
		raw, ok := r.Keys[k]
		if !ok {
			raw = r.Image[k]
		}
		require.NotNil(t, raw, "%s: record without key %s", r.Source, k)
		tag, v := typed(t, raw)
		s, _ := scalarCanon(t, col.Type, tag, v)
		parts = append(parts, s)
	}
	return strings.Join(parts, "|")
}

// rowKey renders the key of a row like recordKey.
func rowKey(t *testing.T, reg *registry, keyAttrs []string, row lakeRow) string {
	t.Helper()
	var parts []string
	for _, k := range keyAttrs {
		col, ok := reg.column(k)
		require.True(t, ok, "key %s has a column", k)
		parts = append(parts, canon(t, row[col.Name], col.Type, false))
	}
	return strings.Join(parts, "|")
}

// historyFilesOnDisk lists the history fixtures by name.
func historyFilesOnDisk(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(historyDir())
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		out = append(out, filepath.Join(historyDir(), e.Name()))
	}
	sort.Strings(out)
	require.NotEmpty(t, out)
	return out
}

// TestLatestViewOnDuckDB replays the scripted history in several ways (one
// run; one run per file, latest day first; two runs then a rerun, with the
// redelivered events first) and runs the latest-state view on DuckDB, both
// as `ddblake ddl` prints it (CREATE OR REPLACE VIEW over the table) and as
// schemas.LatestSelect makes it over read_parquet: it returns exactly the
// items, with their values, that a scan of the DynamoDB table would after
// the history, computed here by applying the history in order.
func TestLatestViewOnDuckDB(t *testing.T) {
	t.Parallel()
	files := historyFilesOnDisk(t)
	recs := readFixtures(t, "", files...)

	var redelivered, others []string
	for _, f := range files {
		if filepath.Base(f) == "redelivered.json" {
			redelivered = append(redelivered, f)
		} else {
			others = append(others, f)
		}
	}
	require.Len(t, redelivered, 1)
	reversed := slices.Clone(files)
	slices.Reverse(reversed)

	scenarios := []struct {
		name string
		runs [][]string
	}{
		{"one-run", [][]string{{historyDir()}}},
		{"file-by-file-latest-first", func() [][]string {
			var runs [][]string
			for _, f := range files { // names sort latest day first
				runs = append(runs, []string{f})
			}
			return runs
		}()},
		{"redelivered-first-then-rest-then-rerun", [][]string{
			append(slices.Clone(redelivered), others[len(others)/2:]...),
			reversed,
			{historyDir()},
		}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			lake := filepath.Join(t.TempDir(), "lake")
			for _, run := range sc.runs {
				replay(t, lake, 0, run...)
			}
			db := openDuck(t)
			scan := tableScan(lake, "e2e_history")
			require.Equal(t, len(recs), countRows(t, db, "SELECT count(*) FROM "+scan),
				"every delivered change is a row, redeliveries included")

			reg := readRegistry(t, lake, "e2e_history")
			require.Equal(t, []string{"pk", "sk"}, reg.Keys)
			want := expectedLatest(t, reg, reg.Keys, recs)
			require.NotEmpty(t, want)

			// The view as `ddblake ddl` prints it, over the table as a view.
			res := ddblake(t, filepath.Dir(lake), "ddl", "--lake", lake, "--location", "s3://e2e-bucket/lake", "--format", "athena")
			require.Equal(t, 0, res.Code, res.Stderr)
			ddl := viewStatement(t, res.Stdout, `"ddblake"."e2e_history_latest"`)
			mustExec(t, db, `CREATE SCHEMA IF NOT EXISTS "ddblake"`)
			mustExec(t, db, `CREATE OR REPLACE VIEW "ddblake"."e2e_history" AS SELECT * FROM `+scan)
			mustExec(t, db, ddl)
			viewRel := `"ddblake"."e2e_history_latest"`
			_, viaDDL := queryRows(t, db, selectWithText(reg, describe(t, db, viewRel), viewRel))
			assertLatest(t, reg, reg.Keys, want, viaDDL)

			// The same SELECT from the library, over read_parquet directly.
			schema := loadSchema(t, lake, "e2e_history")
			q, err := schemas.LatestSelect(schema, scan)
			require.NoError(t, err)
			_, viaSelect := queryRows(t, db, selectWithText(reg, describe(t, db, "("+q+")"), "("+q+")"))
			assertLatest(t, reg, reg.Keys, want, viaSelect)

			// And LatestViewDDL, the statement the CLI prints.
			view, err := schemas.LatestViewDDL(schema, schemas.Options{Location: "s3://e2e-bucket/lake"})
			require.NoError(t, err)
			require.Equal(t, strings.TrimSpace(view), strings.TrimSuffix(strings.TrimSpace(ddl), ";"))
		})
	}
}

// assertLatest checks that the view's rows are exactly the live items of
// want, each with its last change's metadata and values.
func assertLatest(t *testing.T, reg *registry, keyAttrs []string, want map[string]expRecord, rows []lakeRow) {
	t.Helper()
	got := map[string]lakeRow{}
	for _, r := range rows {
		key := rowKey(t, reg, keyAttrs, r)
		require.NotContains(t, got, key, "the view holds one row per item")
		got[key] = r
	}
	require.ElementsMatch(t, sortedKeys(want), sortedKeys(got), "the items of the latest view")
	var problems []string
	for key, rec := range want {
		row := got[key]
		if row["_event_id"] != rec.EventID || row["_sequence_number"] != rec.Seq || row["_event_name"] != rec.Event {
			problems = append(problems, fmt.Sprintf("%s: the view shows %v %v %v, the last change is %s %s %s",
				key, row["_event_name"], row["_event_id"], row["_sequence_number"], rec.Event, rec.EventID, rec.Seq))
			continue
		}
		p, _ := checkRow(t, reg, rec, row)
		problems = append(problems, p...)
	}
	require.Empty(t, problems)
}

// TestLatestViewOnSample runs the latest views `ddblake ddl` prints for the
// sample's tables on DuckDB, over a lake of every input format at once
// (snapshots, stream and Kinesis records, incremental exports): each holds
// the items the sample's history leaves, with their last values.
func TestLatestViewOnSample(t *testing.T) {
	t.Parallel()
	lake := filepath.Join(t.TempDir(), "lake")
	replay(t, lake, 0, fixture("sample"))
	recs := readFixtures(t, "", fixture("sample"))
	res := ddblake(t, filepath.Dir(lake), "ddl", "--lake", lake, "--location", "s3://e2e-bucket/lake", "--format", "athena")
	require.Equal(t, 0, res.Code, res.Stderr)
	db := openDuck(t)
	mustExec(t, db, `CREATE SCHEMA IF NOT EXISTS "ddblake"`)
	for _, table := range []string{"chat_messages", "chat_rooms"} {
		t.Run(table, func(t *testing.T) {
			reg := readRegistry(t, lake, table)
			require.Equal(t, knownKeys[table], reg.Keys)
			var mine []expRecord
			for _, r := range recs {
				if r.Table == table {
					mine = append(mine, r)
				}
			}
			want := expectedLatest(t, reg, reg.Keys, mine)
			require.NotEmpty(t, want)
			scan := tableScan(lake, table)
			mustExec(t, db, `CREATE OR REPLACE VIEW "ddblake".`+sqlIdent(table)+` AS SELECT * FROM `+scan)
			mustExec(t, db, viewStatement(t, res.Stdout, `"ddblake".`+sqlIdent(table+"_latest")))
			view := `"ddblake".` + sqlIdent(table+"_latest")
			_, rows := queryRows(t, db, selectWithText(reg, describe(t, db, view), view))
			assertLatest(t, reg, reg.Keys, want, rows)
		})
	}
}

// viewStatement finds the CREATE OR REPLACE VIEW statement of name in a
// script of statements ended by ";".
func viewStatement(t *testing.T, script, name string) string {
	t.Helper()
	head := "CREATE OR REPLACE VIEW " + name
	i := strings.Index(script, head)
	require.GreaterOrEqual(t, i, 0, "no %s in the ddl output:\n%s", head, script)
	rest := script[i:]
	end := strings.Index(rest, ";\n")
	if end < 0 {
		end = len(rest)
	}
	return rest[:end] + ";"
}

func mustExec(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	_, err := db.Exec(q)
	require.NoError(t, err, q)
}

// loadSchema reads the registry file as the schemas package does.
func loadSchema(t *testing.T, lake, table string) *schemas.Schema {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(lake, "_ddblake", "schemas", table+".json"))
	require.NoError(t, err)
	var s schemas.Schema
	require.NoError(t, s.UnmarshalJSON(b))
	return &s
}
