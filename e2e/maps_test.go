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
	"sync"
	"testing"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/pipeline"
	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/firehose"
	"github.com/ddblake/ddblake/sink/localstore"
)

// mapsTable is the DynamoDB table of the id-keyed maps fixture.
const mapsTable = "e2e-maps"

// mapsInput writes files of stream records of chat messages whose maps
// are keyed by data: readBy (user id -> read time, now and then a value
// that is no number, after the first file, or NULL), reactions (emoji -> count), seen (user id ->
// {ts, device}, a map of maps), beside a sender struct that reads as field
// names. The message MSG#0007 is read by u123. It returns the files and,
// per sort key, the last readBy as written.
func mapsInput(t *testing.T, dir string, files, perFile int) ([]string, map[string]map[string]any) {
	t.Helper()
	rng := rand.New(rand.NewPCG(9, 9))
	const alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	users := make([]string, 500)
	for i := range users {
		b := []byte{'u'}
		for range 7 {
			b = append(b, alnum[rng.IntN(len(alnum))])
		}
		users[i] = string(b)
	}
	emoji := []string{"🥕", "👍", "❤️", "😂", "감사"}
	last := map[string]map[string]any{}
	var paths []string
	seq := 0
	for f := range files {
		var b strings.Builder
		for i := range perFile {
			n := f*perFile + i
			sk := fmt.Sprintf("MSG#%04d", n%(files*perFile/2)) // every message is written twice
			readBy := map[string]any{}
			for range 1 + rng.IntN(5) {
				readBy[users[rng.IntN(len(users))]] = map[string]string{"N": fmt.Sprint(1775001600000 + int64(rng.IntN(1e6)))}
			}
			if sk == "MSG#0007" {
				readBy["u123"] = map[string]string{"N": "1775001699999"}
			}
			switch rng.IntN(20) {
			case 0:
				if f > 0 { // the first file types the map: bigint
					readBy[users[rng.IntN(len(users))]] = map[string]string{"S": "late"} // no number: to _extra
				}
			case 1:
				readBy[users[rng.IntN(len(users))]] = map[string]bool{"NULL": true} // the NULL rule: to _extra
			}
			reactions := map[string]any{}
			for range rng.IntN(3) {
				reactions[emoji[rng.IntN(len(emoji))]] = map[string]string{"N": fmt.Sprint(1 + rng.IntN(9))}
			}
			seen := map[string]any{}
			for range rng.IntN(3) {
				seen[users[rng.IntN(len(users))]] = map[string]any{"M": map[string]any{
					"ts": map[string]string{"N": fmt.Sprint(rng.IntN(1e9))}, "device": map[string]string{"S": []string{"ios", "android"}[rng.IntN(2)]}}}
			}
			image := map[string]any{
				"roomId":  map[string]string{"S": "room-1"},
				"sk":      map[string]string{"S": sk},
				"body":    map[string]string{"S": fmt.Sprint("hello ", n)},
				"sender":  map[string]any{"M": map[string]any{"userId": map[string]string{"S": users[n%len(users)]}, "profile": map[string]any{"M": map[string]any{"name": map[string]string{"S": "x"}}}}},
				"readBy":  map[string]any{"M": readBy},
				"seen":    map[string]any{"M": seen},
				"counted": map[string]string{"N": fmt.Sprint(len(readBy))},
			}
			if len(reactions) > 0 {
				image["reactions"] = map[string]any{"M": reactions}
			}
			if len(seen) == 0 {
				delete(image, "seen")
			}
			last[sk] = readBy
			seq++
			rec := map[string]any{
				"eventID": fmt.Sprintf("%032x", seq), "eventName": "INSERT", "eventVersion": "1.1",
				"eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
				"dynamodb": map[string]any{
					"ApproximateCreationDateTime": 1775001600 + seq,
					"Keys":                        map[string]any{"roomId": image["roomId"], "sk": image["sk"]},
					"NewImage":                    image,
					"SequenceNumber":              fmt.Sprintf("%021d", 100000+seq),
					"StreamViewType":              "NEW_AND_OLD_IMAGES",
				},
				"eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/" + mapsTable + "/stream/2026-01-01T00:00:00.000",
			}
			line, err := json.Marshal(rec)
			require.NoError(t, err)
			b.Write(line)
			b.WriteByte('\n')
		}
		p := filepath.Join(dir, fmt.Sprintf("records-%02d.jsonl", f))
		require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o644))
		paths = append(paths, p)
	}
	return paths, last
}

// TestIDKeyedMaps replays chat messages whose maps are keyed by user ids
// and emoji and reads them back with DuckDB: each such map is one MAP
// column, whatever the number of distinct keys, that DuckDB queries by
// key; every value is in its map or in _extra; the _latest view carries
// the maps; and the flat JSON rows the Firehose sink sends read back, with
// the Glue column types, as the same maps.
func TestIDKeyedMaps(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inputs, last := mapsInput(t, dir, 3, 400)
	lake := filepath.Join(dir, "lake")
	res := replay(t, lake, 0, append([]string{"--format", "jsonl"}, inputs...)...)
	require.NotZero(t, res.Summary(t).Misfits, "values that are no number go to _extra")

	table := "e2e_maps"
	reg := readRegistry(t, lake, table)
	types := map[string]string{}
	for _, c := range reg.Columns {
		types[c.Path] = c.Type
	}
	require.Equal(t, map[string]string{
		"roomId": "string", "sk": "string", "body": "string", "sender.userId": "string", "sender.profile.name": "string",
		"readBy": "map<string,bigint>", "seen": "map<string,json>", "counted": "bigint", "reactions": "map<string,bigint>",
	}, types, "one column per map keyed by data, never one per key")

	// Every value is in its column, its map, or _extra (the row oracle).
	recs := readFixtures(t, "", inputs...)
	assertLake(t, lake, recs)

	db := openDuck(t)
	scan := tableScan(lake, table)
	d := describe(t, db, scan)
	require.Equal(t, "MAP(VARCHAR, BIGINT)", d["read_by"])
	require.Equal(t, "MAP(VARCHAR, VARCHAR)", d["seen"])

	// By key, as an analyst writes it.
	_, rows := queryRows(t, db, "SELECT read_by['u123'] AS ts, element_at(read_by, 'u123') AS ts2, map_contains(read_by, 'u123') AS has "+
		"FROM "+scan+" WHERE sk = 'MSG#0007' ORDER BY _sequence_number")
	require.Len(t, rows, 2)
	for _, r := range rows {
		require.EqualValues(t, 1775001699999, r["ts"])
		// DuckDB's element_at gives a list (Athena's gives the value).
		require.Equal(t, []any{int64(1775001699999)}, r["ts2"])
		require.Equal(t, true, r["has"])
	}
	require.Zero(t, countRows(t, db, "SELECT count(*) FROM "+scan+" WHERE map_contains(read_by, 'nobody')"))
	// A map of maps: each value is the entry's DynamoDB JSON.
	require.NotZero(t, countRows(t, db, "SELECT count(*) FROM (SELECT unnest(map_values(seen)) AS v FROM "+scan+
		") WHERE json_extract_string(v, '$.M.device.S') IN ('ios', 'android')"))
	// Entries: every key of the input is in the map or in _extra, none lost.
	entries := countRows(t, db, "SELECT coalesce(sum(cardinality(read_by)), 0) FROM "+scan)
	inExtra := countRows(t, db, "SELECT count(*) FROM (SELECT unnest(json_keys(_extra, '$.readBy.M')) FROM "+scan+" WHERE _extra IS NOT NULL)")
	want := 0
	for _, r := range recs {
		var m struct {
			M map[string]json.RawMessage `json:"M"`
		}
		require.NoError(t, json.Unmarshal(r.Image["readBy"], &m))
		want += len(m.M)
	}
	require.Equal(t, want, entries+inExtra)

	// The _latest view keeps each message's last maps.
	res = ddblake(t, dir, "ddl", "--lake", lake, "--location", "s3://e2e-bucket/lake", "--format", "athena")
	require.Equal(t, 0, res.Code, res.Stderr)
	require.Contains(t, res.Stdout, "`read_by` map<string,bigint> COMMENT 'readBy'")
	mustExec(t, db, `CREATE SCHEMA IF NOT EXISTS "ddblake"`)
	mustExec(t, db, `CREATE OR REPLACE VIEW "ddblake".`+sqlIdent(table)+` AS SELECT * FROM `+scan)
	mustExec(t, db, viewStatement(t, res.Stdout, `"ddblake".`+sqlIdent(table+"_latest")))
	_, latest := queryRows(t, db, `SELECT sk, read_by FROM "ddblake".`+sqlIdent(table+"_latest"))
	require.Len(t, latest, len(last))
	for _, r := range latest {
		m, ok := r["read_by"].(duckdb.OrderedMap)
		require.True(t, ok, "%T", r["read_by"])
		wantKeys := 0
		for _, v := range last[r["sk"].(string)] {
			if s, ok := v.(map[string]string); ok && s["N"] != "" {
				wantKeys++ // NULLs and values that are no number are in _extra
			}
		}
		require.Equal(t, wantKeys, m.Len(), "read_by of %s", r["sk"])
	}

	// The Firehose sink's rows: the same maps, read with the Glue types.
	assertFirehoseMaps(t, db, dir, inputs, lake, table)
}

// jsonRowSink encodes the rows it is given as the Firehose destination does.
type jsonRowSink struct {
	mu  sync.Mutex
	buf []byte
}

func (s *jsonRowSink) Write(ctx context.Context, batchID string, t *sink.Table, rows []flatten.Row) (sink.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range rows {
		s.buf = firehose.EncodeRow(s.buf, t.Schema, &rows[i], t.Hourly)
	}
	return sink.Delivery{}, nil
}

type noQuarantine struct{}

func (noQuarantine) SetAside(context.Context, string, []pipeline.SetAside) error { return nil }

// assertFirehoseMaps replays inputs through the Firehose row encoding
// (firehose.EncodeRow, what the Lambda sends) and reads the JSON lines
// with DuckDB, typing each column as the registry does (what the Glue
// table gives Firehose's converter): every map column reads back equal to
// the Parquet lake's, row by row.
func assertFirehoseMaps(t *testing.T, db *sql.DB, dir string, inputs []string, lake, table string) {
	t.Helper()
	ctx := context.Background()
	regDir := filepath.Join(dir, "firehose-registry")
	store, err := localstore.New(regDir)
	require.NoError(t, err)
	out := &jsonRowSink{}
	r := &pipeline.Replay{
		Processor: &pipeline.Processor{Schemas: pipeline.NewRegistrySchemas(store), Destination: out, Quarantine: noQuarantine{}},
		Format:    decode.FormatJSONL,
		Workers:   1,
	}
	ins, err := (&decode.Resolver{}).Resolve(ctx, inputs...)
	require.NoError(t, err)
	sum, err := r.Run(ctx, ins)
	require.NoError(t, err)
	require.Empty(t, sum.WriteErrors)
	rows := filepath.Join(dir, "firehose.jsonl")
	require.NoError(t, os.WriteFile(rows, out.buf, 0o644))

	reg := readRegistry(t, regDir, table)
	require.Equal(t, readRegistry(t, lake, table).Columns, reg.Columns, "the same columns as the lake's")
	cols := []string{"'_sequence_number': 'VARCHAR'", "'_extra': 'VARCHAR'"}
	var maps []string
	for _, c := range reg.Columns {
		cols = append(cols, sqlString(c.Name)+": "+sqlString(duckType(t, c.Type)))
		if strings.HasPrefix(c.Type, "map<") {
			maps = append(maps, sqlIdent(c.Name))
		}
	}
	require.Len(t, maps, 3)
	jsonScan := "read_json(" + sqlString(rows) + ", format = 'newline_delimited', columns = {" + strings.Join(cols, ", ") + "})"
	sel := "SELECT _sequence_number, " + strings.Join(maps, ", ") + " FROM "
	_, fromJSON := queryRows(t, db, sel+jsonScan+" ORDER BY 1")
	_, fromParquet := queryRows(t, db, sel+tableScan(lake, table)+" ORDER BY 1")
	require.Len(t, fromJSON, len(fromParquet))
	plain := func(v any) any {
		m, ok := v.(duckdb.OrderedMap)
		if !ok {
			return v
		}
		out := map[string]any{}
		keys, vals := m.Keys(), m.Values()
		for i, k := range keys {
			out[k.(string)] = vals[i]
		}
		return out
	}
	nonNull := 0
	for i := range fromJSON {
		for k, v := range fromParquet[i] {
			require.Equal(t, plain(v), plain(fromJSON[i][k]), "row %v, column %s", fromParquet[i]["_sequence_number"], k)
			if v != nil {
				nonNull++
			}
		}
	}
	require.Greater(t, nonNull, len(fromJSON), "maps were compared, not only nulls")
}
