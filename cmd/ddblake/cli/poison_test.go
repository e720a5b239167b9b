package cli_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/cmd/ddblake/cli"
	"github.com/ddblake/ddblake/internal/laketest"
)

// streamLine is one stream record (a jsonl line) of table at time, with
// the event ID id and the image img.
func streamLine(id, table, time, img string) string {
	return fmt.Sprintf(`{"eventID":%q,"eventName":"INSERT","eventSource":"aws:dynamodb",`+
		`"eventSourceARN":"arn:aws:dynamodb:us-east-1:123456789012:table/%s/stream/x",`+
		`"dynamodb":{"ApproximateCreationDateTime":%s,"Keys":{"id":{"S":%q}},"NewImage":%s,"SequenceNumber":"1%020d","StreamViewType":"NEW_IMAGE"}}`,
		id, table, time, id, img, len(id))
}

// TestReplayPoisonRecordsExitPartial replays records that each used to
// fail their whole batch (exit 1) between good ones: every good record
// lands, the poison is set aside or lands, and the exit code is 3.
func TestReplayPoisonRecordsExitPartial(t *testing.T) {
	t.Parallel()
	item := func(id string) string { return fmt.Sprintf(`{"id":{"S":%q},"n":{"N":"1"}}`, id) }
	kinesis := func(id, table, ts, precision string) string {
		return fmt.Sprintf(`{"eventID":%q,"eventName":"INSERT","tableName":%q,"dynamodb":{"ApproximateCreationDateTime":%s,`+
			`"ApproximateCreationDateTimePrecision":%q,"Keys":{"id":{"S":%q}},"NewImage":%s}}`, id, table, ts, precision, id, item(id))
	}
	lines := []string{
		streamLine("good-1", "chat-messages", "1775001600", item("good-1")),
		streamLine("p-seconds", "chat-messages", "253402300800", item("p-seconds")),
		kinesis("p-millis", "chat-messages", "253402300800000", "MILLISECOND"),
		kinesis("p-micros", "chat-messages", "253402300800000000", "MICROSECOND"),
		streamLine("p-table-255", strings.Repeat("t", 255), "1775001600", item("p-table-255")),
		streamLine("p-table-251", strings.Repeat("aB", 200)[:251], "1775001600", item("p-table-251")),
		streamLine("p-surrogate", "chat-messages", "1775001600", `{"id":{"S":"x"},"body":{"S":"\ud800"}}`),
		streamLine("p-large", "chat-messages", "1775001600", `{"id":{"S":"x"},"body":{"S":"`+strings.Repeat("x", 410_000)+`"}}`),
		strings.Replace(streamLine("p-twice", "chat-messages", "1775001600", item("p-twice")), `"eventName":"INSERT"`, `"eventName":"INSERT","eventName":"REMOVE"`, 1),
		streamLine("good-2", "chat-messages", "1775001601", item("good-2")),
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "poison.jsonl")
	require.NoError(t, os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	lake := filepath.Join(dir, "lake")
	res := ddblake(t, "", "replay", "--to", lake, in)
	require.Equal(t, cli.ExitPartial, res.code, res.stderr)
	require.NotContains(t, res.stderr, "write error")
	sum := parseSummary(t, res.stderr)
	require.Equal(t, len(lines), sum.records)
	require.Equal(t, 4, sum.rows, "the two good records and the two of long table names land: %v", sum.tables)
	require.Equal(t, len(lines)-4, sum.setAside, res.stderr)
	require.Equal(t, 2, sum.tables["chat_messages"])
	for rel := range laketest.Files(t, lake) {
		for _, seg := range strings.Split(rel, "/") {
			require.LessOrEqual(t, len(seg), 255, rel)
		}
	}
}

// TestReplayExportDataWithoutItsManifest checks that a full-export data
// file read on its own needs --table and --export-time, says so, and
// lands on the given day with them.
func TestReplayExportDataWithoutItsManifest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	fmt.Fprintln(zw, `{"Item":{"id":{"S":"1"},"n":{"N":"2"}}}`)
	require.NoError(t, zw.Close())
	data := filepath.Join(dir, "abc.json.gz")
	require.NoError(t, os.WriteFile(data, gz.Bytes(), 0o644))

	// The input is read but cannot be dated: an input error (exit 3, as
	// for a missing table name), nothing written at 1970-01-01.
	res := ddblake(t, "", "replay", "--to", filepath.Join(dir, "lake1"), data)
	require.Equal(t, cli.ExitPartial, res.code, res.stderr)
	require.Contains(t, res.stderr, "table name unknown")

	res = ddblake(t, "", "replay", "--to", filepath.Join(dir, "lake2"), "--table", "chat-messages", data)
	require.Equal(t, cli.ExitPartial, res.code, res.stderr)
	require.Contains(t, res.stderr, "0 records")
	require.Contains(t, res.stderr, "abc.json.gz")
	require.Contains(t, res.stderr, "export time unknown")
	require.Contains(t, res.stderr, "give the export time")

	lake := filepath.Join(dir, "lake3")
	res = ddblake(t, "", "replay", "--to", lake, "--table", "chat-messages", "--export-time", "2026-04-01T09:30:00+09:00", data)
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	files := laketest.Files(t, lake)
	found := false
	for rel := range files {
		if strings.HasPrefix(rel, "chat_messages/dt=2026-04-01/") {
			found = true
		}
		require.NotContains(t, rel, "1970-01-01")
	}
	require.True(t, found, "%v", files)

	for _, bad := range []string{"yesterday", "10000-01-01T00:00:00Z", "9999-12-31T23:30:00-01:00", "-5"} {
		res = ddblake(t, "", "replay", "--to", filepath.Join(dir, "lake4"), "--table", "chat-messages", "--export-time", bad, data)
		require.Equal(t, cli.ExitUsage, res.code, bad)
		require.Contains(t, res.stderr, "--export-time")
	}
	res = ddblake(t, "", "replay", "--to", filepath.Join(dir, "lake5"), "--table", "chat-messages", "--export-time", "1775001600", data)
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
}
