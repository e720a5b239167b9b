package e2e

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// knownKeys are the key attributes of the fixtures' tables (hash, range),
// as the DynamoDB tables define them.
var knownKeys = map[string][]string{
	"chat_messages": {"roomId", "sk"},
	"chat_rooms":    {"roomId"},
	"chat_users":    {"userId"},
	"e2e_history":   {"pk", "sk"},
	"e2e_misfits":   {"id"},
	"e2e_maps":      {"roomId", "sk"},
}

// formatCase is one replay of fixtures of one input format.
type formatCase struct {
	name    string
	format  string   // --format
	table   string   // --table
	sources []string // fixtures
	// huge is true when the fixtures hold numbers of 30+ digits that land
	// in decimal columns.
	huge bool
}

func formatCases() []formatCase {
	return []formatCase{
		{name: "lambda", format: "lambda", sources: []string{
			fixture("inputs", "lambda", "chat_stream.json"),
			fixture("inputs", "lambda", "keys_only.json"),
			fixture("inputs", "lambda", "new_image.json"),
			fixture("sample", "lambda"),
		}, huge: true},
		{name: "kinesis", format: "kinesis", sources: []string{
			fixture("inputs", "kinesis", "chat_ms.json"),
			fixture("inputs", "kinesis", "chat_us.json"),
			fixture("sample", "kinesis"),
		}},
		{name: "kinesis-data-lines", format: "auto", sources: []string{
			fixture("inputs", "kinesis", "data", "chat_ms.jsonl"),
			fixture("inputs", "kinesis", "data", "chat_us.jsonl"),
		}},
		{name: "jsonl-plain", format: "jsonl", sources: []string{
			fixture("inputs", "jsonl", "stream.jsonl"),
			fixture("sample", "jsonl", "records-20260403T0000.jsonl"),
		}},
		{name: "jsonl-gzip", format: "jsonl", sources: []string{
			fixture("inputs", "jsonl", "stream.jsonl.gz"),
			fixture("inputs", "jsonl", "stream_gzip.data"),
			fixture("sample", "jsonl", "records-20260403T1200.jsonl.gz"),
		}},
		{name: "jsonl-table-flag", format: "jsonl", table: "chat-users", sources: []string{
			fixture("inputs", "jsonl", "getrecords.jsonl"),
		}},
		{name: "export", format: "export", sources: []string{
			fixture("inputs", "export", "full"),
			fixture("sample", "export"),
		}},
		{name: "incremental", format: "incremental", sources: []string{
			fixture("inputs", "incremental", "chat"),
			fixture("sample", "incremental"),
		}},
		{name: "sample-auto", format: "auto", sources: []string{fixture("sample")}, huge: true},
	}
}

// TestReplayFormats replays the fixtures of each input format with the
// binary and reads the lake back with DuckDB: row counts per table and
// partition, column types, and every value, computed from the fixtures'
// JSON.
func TestReplayFormats(t *testing.T) {
	t.Parallel()
	for _, tc := range formatCases() {
		t.Run(tc.name, func(t *testing.T) {
			lake := filepath.Join(t.TempDir(), "lake")
			args := []string{"--format", tc.format}
			if tc.table != "" {
				args = append(args, "--table", tc.table)
			}
			res := replay(t, lake, 0, append(args, tc.sources...)...)
			want := readFixtures(t, tc.table, tc.sources...)
			require.NotEmpty(t, want)

			sum := res.Summary(t)
			require.Equal(t, len(want), sum.Records, "summary records: %s", sum.Line)
			require.Equal(t, len(want), sum.Rows, "summary rows: %s", sum.Line)
			require.Zero(t, sum.SetAside, sum.Line)

			huge := assertLake(t, lake, want)
			if tc.huge {
				require.Positive(t, huge, "the fixtures' 30+ digit numbers were compared as text")
			}
		})
	}
}

// assertLake checks that the lake holds exactly the records want, one row
// each, and returns how many numbers of 30 or more digits it compared as
// decimal text.
func assertLake(t *testing.T, lake string, want []expRecord) int {
	t.Helper()
	db := openDuck(t)
	byTable := map[string][]expRecord{}
	for _, r := range want {
		byTable[r.Table] = append(byTable[r.Table], r)
	}
	huge := 0
	for _, table := range sortedKeys(byTable) {
		recs := byTable[table]
		scan := tableScan(lake, table)
		reg := readRegistry(t, lake, table)
		if len(reg.Keys) > 0 {
			require.Equal(t, knownKeys[table], reg.Keys, "registry keys of %s", table)
		}

		// Row counts, per table and per dt partition.
		require.Equal(t, len(recs), countRows(t, db, "SELECT count(*) FROM "+scan), "rows of %s", table)
		wantDays := countBy(recs, expRecord.Day)
		_, dayRows := queryRows(t, db, "SELECT CAST(dt AS VARCHAR) AS dt, count(*) AS n FROM "+scan+" GROUP BY ALL ORDER BY 1")
		gotDays := map[string]int{}
		for _, r := range dayRows {
			gotDays[r["dt"].(string)] = int(r["n"].(int64))
		}
		require.Equal(t, wantDays, gotDays, "rows per dt of %s", table)

		// Types: metadata columns, then data columns as the registry declares.
		types := describe(t, db, scan)
		for col, typ := range metadataTypes {
			require.Equal(t, typ, types[col], "type of %s.%s", table, col)
		}
		require.Equal(t, "DATE", types["dt"], "dt is read as a date by hive partitioning")
		// Every file stores _event_time as INT64 TIMESTAMP(MILLIS, UTC).
		_, ps := queryRows(t, db, "SELECT DISTINCT type, CAST(logical_type AS VARCHAR) AS logical FROM parquet_schema("+
			sqlString(tableGlob(lake, table))+") WHERE name = '_event_time'")
		require.Len(t, ps, 1, "one physical type of _event_time in all files of %s", table)
		require.Equal(t, "INT64", ps[0]["type"])
		require.Contains(t, ps[0]["logical"], "isAdjustedToUTC=1")
		require.Contains(t, ps[0]["logical"], "MILLIS=MilliSeconds()")
		for _, c := range reg.Columns {
			if got, ok := types[c.Name]; ok {
				require.Equal(t, duckType(t, c.Type), got, "type of %s.%s (registry %s)", table, c.Name, c.Type)
			}
		}
		for col := range types {
			_, meta := metadataTypes[col]
			_, data := reg.findName(col)
			require.True(t, meta || data || col == "dt", "column %s.%s is neither metadata nor in the registry", table, col)
		}

		huge += assertRows(t, db, scan, reg, types, table, recs)
	}
	return huge
}

// findName returns the registry column named name.
func (r *registry) findName(name string) (regColumn, bool) {
	for _, c := range r.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return regColumn{}, false
}

// selectWithText selects every column of a relation and, for each decimal
// data column, DuckDB's text of it (see textPrefix).
func selectWithText(reg *registry, types map[string]string, relation string) string {
	sel := "SELECT *"
	for _, c := range reg.Columns {
		if strings.HasPrefix(types[c.Name], "DECIMAL(") {
			sel += ", CAST(" + sqlIdent(c.Name) + " AS VARCHAR) AS " + sqlIdent(textPrefix+c.Name)
		}
	}
	return sel + " FROM " + relation
}

var digits40 = regexp.MustCompile(`^[0-9]{40}$`)

// assertRows matches every row of the table with one record and checks its
// metadata and values.
func assertRows(t *testing.T, db *sql.DB, scan string, reg *registry, types map[string]string, table string, recs []expRecord) int {
	t.Helper()
	_, rows := queryRows(t, db, selectWithText(reg, types, scan))
	keyCols := make([]regColumn, 0, 2)
	for _, k := range knownKeys[table] {
		c, ok := reg.column(k)
		require.True(t, ok, "key %s of %s has a column", k, table)
		keyCols = append(keyCols, c)
	}
	wantByID := map[string][]expRecord{}
	for _, r := range recs {
		id := fmt.Sprintf("%s|%s|%s|%d", r.Event, r.EventID, r.Seq, r.Millis())
		for _, k := range keyCols {
			raw, ok := r.Keys[k.Path]
			if !ok {
				raw = r.Image[k.Path]
			}
			require.NotNil(t, raw, "%s: record without key %s", r.Source, k.Path)
			tag, v := typed(t, raw)
			s, _ := scalarCanon(t, k.Type, tag, v)
			id += "|" + s
		}
		wantByID[id] = append(wantByID[id], r)
	}
	gotByID := map[string][]lakeRow{}
	for _, row := range rows {
		name, _ := row["_event_name"].(string)
		eid, _ := row["_event_id"].(string)
		seq, _ := row["_sequence_number"].(string)
		id := fmt.Sprintf("%s|%s|%s|%d", name, eid, seq, eventMillis(t, row["_event_time"]))
		for _, k := range keyCols {
			id += "|" + canon(t, row[k.Name], k.Type, false)
		}
		gotByID[id] = append(gotByID[id], row)
	}
	var missing, extra []string
	for id, w := range wantByID {
		if len(gotByID[id]) != len(w) {
			missing = append(missing, fmt.Sprintf("%s: %d rows, want %d (%s)", id, len(gotByID[id]), len(w), w[0].Source))
		}
	}
	for id := range gotByID {
		if _, ok := wantByID[id]; !ok {
			extra = append(extra, id)
		}
	}
	require.Empty(t, missing, "records of %s without their row", table)
	require.Empty(t, extra, "rows of %s that no record explains", table)

	var problems []string
	huge := 0
	for id, ws := range wantByID {
		for i, row := range gotByID[id] {
			rec := ws[i]
			// Metadata.
			if got := row["_ttl_delete"]; got != rec.TTL {
				problems = append(problems, fmt.Sprintf("%s: _ttl_delete = %v, want %v", id, got, rec.TTL))
			}
			if got := dayOf(t, row["dt"]); got != rec.Day() {
				problems = append(problems, fmt.Sprintf("%s: dt = %s, want %s (the UTC day of _event_time)", id, got, rec.Day()))
			}
			// DynamoDB stream sequence numbers are padded to 40 digits
			// (Kinesis ones, longer, are kept; exports have none): the
			// row's identity above already holds the exact value.
			if seq, _ := row["_sequence_number"].(string); rec.Seq != "" && len(rec.Seq) <= 40 && !digits40.MatchString(seq) {
				problems = append(problems, fmt.Sprintf("%s: _sequence_number %q is not 40 digits", id, seq))
			}
			p, h := checkRow(t, reg, rec, row)
			problems = append(problems, p...)
			huge += h
		}
	}
	if len(problems) > 30 {
		problems = append(problems[:30], fmt.Sprintf("... and %d more", len(problems)-30))
	}
	require.Empty(t, problems, "values of %s", table)
	return huge
}
