package e2e

import (
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The stream handoff: enable the table's stream (the stream function
// writes every change from then on), export the table at a point in time,
// backfill the export, and let the stream function go on. The lake then
// holds the export's rows (dated at the export's second) and the stream's
// rows before and after it, some twice; the _latest view must show each
// item as the table holds it.

const (
	handoffTable   = "handoff-chat"
	handoffAccount = "111111111111"
	handoffRegion  = "us-east-1"
	handoffExport  = "01775044800500-0a1b2c3d"
)

// handoffChange is one change of an item, at its true time.
type handoffChange struct {
	at    time.Time
	pk    string
	event string // INSERT, MODIFY, REMOVE
	v     string // the item's v after the change ("" for REMOVE)
	// twice: the stream function delivers it twice (a retried batch).
	twice bool
}

// handoffTimeline is the table's history, in time order. The stream is
// enabled at 11:00; the export is made at 12:00:00.500. DynamoDB stamps
// stream records with their time rounded down to the second.
func handoffTimeline() (before []handoffChange, exportAt time.Time, after []handoffChange, preStream map[string]string) {
	at := func(s string) time.Time {
		t, err := time.Parse("15:04:05.000", s)
		if err != nil {
			panic(err)
		}
		return time.Date(2026, 4, 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	}
	// Items written before the stream was enabled: only the export knows
	// them.
	preStream = map[string]string{"old-1": "old-1 v0", "old-2": "old-2 v0", "old-3": "old-3 v0"}
	before = []handoffChange{
		{at: at("11:10:00.000"), pk: "a", event: "INSERT", v: "a v1"},
		{at: at("11:20:00.000"), pk: "c", event: "INSERT", v: "c v1"},
		{at: at("11:50:00.000"), pk: "old-3", event: "REMOVE", twice: true},
		{at: at("11:59:59.900"), pk: "a", event: "MODIFY", v: "a v2"},
		{at: at("12:00:00.100"), pk: "i", event: "INSERT", v: "i v1"},
		{at: at("12:00:00.200"), pk: "f", event: "INSERT", v: "f v1"},
		{at: at("12:00:00.300"), pk: "i", event: "MODIFY", v: "i v2"},
		{at: at("12:00:00.400"), pk: "b", event: "INSERT", v: "b v1", twice: true},
	}
	exportAt = at("12:00:00.500")
	after = []handoffChange{
		// In the export's second, after it: stamped 12:00:00 like the
		// export's rows, and newer.
		{at: at("12:00:00.700"), pk: "b", event: "MODIFY", v: "b v2"},
		{at: at("12:00:00.800"), pk: "g", event: "INSERT", v: "g v1"},
		{at: at("12:10:00.000"), pk: "h", event: "INSERT", v: "h v1"},
		{at: at("12:10:00.000"), pk: "h", event: "MODIFY", v: "h v2", twice: true},
		{at: at("12:30:00.000"), pk: "c", event: "REMOVE"},
		{at: at("13:00:00.000"), pk: "old-1", event: "MODIFY", v: "old-1 v1", twice: true},
		{at: at("13:00:01.000"), pk: "old-2", event: "REMOVE"},
		{at: at("13:00:02.000"), pk: "old-2", event: "INSERT", v: "old-2 v9"},
	}
	return before, exportAt, after, preStream
}

// handoffImage is the DynamoDB JSON image of an item.
func handoffImage(pk, v string) map[string]any {
	return map[string]any{"pk": map[string]string{"S": pk}, "v": map[string]string{"S": v}}
}

// writeHandoffStream writes the stream records of changes as JSON lines
// (sequence numbers from seq on, in order), each twice when asked, and
// returns the next sequence number.
func writeHandoffStream(t *testing.T, path string, changes []handoffChange, state map[string]string, seq int) int {
	t.Helper()
	var b bytes.Buffer
	for _, c := range changes {
		seq++
		ddb := map[string]any{
			"ApproximateCreationDateTime": c.at.Unix(), // rounded down to the second, as DynamoDB does
			"Keys":                        map[string]any{"pk": map[string]string{"S": c.pk}},
			"SequenceNumber":              fmt.Sprintf("%021d", seq),
			"SizeBytes":                   64,
			"StreamViewType":              "NEW_AND_OLD_IMAGES",
		}
		if old, ok := state[c.pk]; ok {
			ddb["OldImage"] = handoffImage(c.pk, old)
		}
		if c.event == "REMOVE" {
			delete(state, c.pk)
		} else {
			ddb["NewImage"] = handoffImage(c.pk, c.v)
			state[c.pk] = c.v
		}
		line, err := json.Marshal(map[string]any{
			"eventID": fmt.Sprintf("e%04d", seq), "eventName": c.event, "eventVersion": "1.1",
			"eventSource": "aws:dynamodb", "awsRegion": handoffRegion,
			"eventSourceARN": "arn:aws:dynamodb:" + handoffRegion + ":" + handoffAccount + ":table/" + handoffTable + "/stream/2026-04-01T11:00:00.000",
			"dynamodb":       ddb,
		})
		require.NoError(t, err)
		b.Write(append(line, '\n'))
		if c.twice {
			b.Write(append(line, '\n'))
		}
	}
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
	return seq
}

// writeHandoffExport writes a full export of the items in state, made at
// exportAt, under dir; it returns the export folder.
func writeHandoffExport(t *testing.T, dir string, exportAt time.Time, state map[string]string) string {
	t.Helper()
	exp := filepath.Join(dir, "AWSDynamoDB", handoffExport)
	require.NoError(t, os.MkdirAll(filepath.Join(exp, "data"), 0o755))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range state {
			if !yield(k) {
				return
			}
		}
	})
	for _, pk := range keys {
		line, err := json.Marshal(map[string]any{"Item": handoffImage(pk, state[pk])})
		require.NoError(t, err)
		_, err = zw.Write(append(line, '\n'))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	dataKey := "AWSDynamoDB/" + handoffExport + "/data/part-0001.json.gz"
	require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.FromSlash(dataKey)), gz.Bytes(), 0o644))
	sum := md5.Sum(gz.Bytes())
	files, err := json.Marshal(map[string]any{"itemCount": len(keys), "md5Checksum": base64.StdEncoding.EncodeToString(sum[:]), "dataFileS3Key": dataKey})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(exp, "manifest-files.json"), append(files, '\n'), 0o644))
	tableArn := "arn:aws:dynamodb:" + handoffRegion + ":" + handoffAccount + ":table/" + handoffTable
	summary, err := json.Marshal(map[string]any{
		"version": "2020-06-30", "exportArn": tableArn + "/export/" + handoffExport,
		"startTime": exportAt.Format(time.RFC3339Nano), "endTime": exportAt.Add(10 * time.Minute).Format(time.RFC3339Nano),
		"tableArn": tableArn, "exportTime": exportAt.Format("2006-01-02T15:04:05.000Z"),
		"s3Bucket": "exports", "manifestFilesS3Key": "AWSDynamoDB/" + handoffExport + "/manifest-files.json",
		"itemCount": len(keys), "outputFormat": "DYNAMODB_JSON", "exportType": "FULL_EXPORT",
	})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(exp, "manifest-summary.json"), summary, 0o644))
	return exp
}

// TestStreamHandoff plays the standard sequence (README, "Backfill a
// large table"): the stream function writes the changes from the moment
// the stream is enabled, the export made later is backfilled, the stream
// function goes on (some batches delivered twice). The _latest view, read
// with DuckDB as `ddblake ddl` defines it, gives every item the state the
// table holds: an item written before the stream and never changed since
// (export only), changed before the export, in the export's own second
// before and after it, after it, removed before or after it, recreated.
func TestStreamHandoff(t *testing.T) {
	dir := t.TempDir()
	lake := filepath.Join(dir, "lake")
	before, exportAt, after, preStream := handoffTimeline()

	// The table's true state along the way.
	state := map[string]string{}
	for k, v := range preStream {
		state[k] = v
	}
	seq := writeHandoffStream(t, filepath.Join(dir, "stream-1.jsonl"), before, state, 1000)
	exportDir := writeHandoffExport(t, filepath.Join(dir, "export"), exportAt, state)
	// The records of the export's second delivered again with the next
	// ones (duplicates across the seam).
	stream1, err := os.ReadFile(filepath.Join(dir, "stream-1.jsonl"))
	require.NoError(t, err)
	var seam []string
	for _, line := range strings.SplitAfter(string(stream1), "\n") {
		if strings.Contains(line, fmt.Sprintf(`"ApproximateCreationDateTime":%d,`, exportAt.Unix())) {
			seam = append(seam, line)
		}
	}
	require.Len(t, seam, 5, "the stream records of the export's second")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "stream-seam.jsonl"), []byte(strings.Join(seam, "")), 0o644))
	writeHandoffStream(t, filepath.Join(dir, "stream-2.jsonl"), after, state, seq)
	want := map[string]string{}
	for k, v := range state {
		want[k] = v
	}
	require.Equal(t, "b v2", want["b"], "the change in the export's second, after it")
	require.NotContains(t, want, "c")
	require.NotContains(t, want, "old-3")

	// The stream function before the export, the backfill, the stream
	// function after it.
	replay(t, lake, 0, filepath.Join(dir, "stream-1.jsonl"))
	replay(t, lake, 0, exportDir)
	replay(t, lake, 0, filepath.Join(dir, "stream-seam.jsonl"), filepath.Join(dir, "stream-2.jsonl"))

	res := ddblake(t, dir, "ddl", "--lake", lake, "--location", "s3://e2e-bucket/lake")
	require.Equal(t, 0, res.Code, res.Stderr)
	db := openDuck(t)
	mustExec(t, db, `CREATE SCHEMA IF NOT EXISTS "ddblake"`)
	table := "handoff_chat"
	mustExec(t, db, `CREATE OR REPLACE VIEW "ddblake".`+sqlIdent(table)+` AS SELECT * FROM `+listedScan(t, lake, table))
	mustExec(t, db, viewStatement(t, res.Stdout, `"ddblake".`+sqlIdent(table+"_latest")))
	_, rows := queryRows(t, db, `SELECT pk, v, _event_name FROM "ddblake".`+sqlIdent(table+"_latest"))
	got := map[string]string{}
	for _, r := range rows {
		pk := r["pk"].(string)
		require.NotContains(t, got, pk, "one row per item")
		got[pk] = fmt.Sprint(r["v"])
	}
	require.Equal(t, want, got)

	// The export's rows are dated at its second; the table holds them
	// beside the stream's.
	_, rows = queryRows(t, db, `SELECT DISTINCT _event_time FROM "ddblake".`+sqlIdent(table)+` WHERE _event_name = 'SNAPSHOT'`)
	require.Len(t, rows, 1)
	require.Equal(t, exportAt.Truncate(time.Second), rows[0]["_event_time"].(time.Time).UTC())
}
