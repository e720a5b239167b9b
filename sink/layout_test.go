package sink_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/sink"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/sink")

// goldenDir is the shared testdata folder of the sink package.
const goldenDir = "../testdata/sink"

// golden compares got with the named golden file, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(goldenDir, name)
	if *update {
		require.NoError(t, os.MkdirAll(goldenDir, 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./sink -update to create %s", path)
	require.Equal(t, string(want), got)
}

func TestDataKey(t *testing.T) {
	t.Parallel()
	key, err := sink.DataKey("chat_messages", sink.Partition{Day: "2026-04-01"}, "batch-0001")
	require.NoError(t, err)
	require.Equal(t, "chat_messages/dt=2026-04-01/batch-0001.parquet", key)
	key, err = sink.DataKey("chat_messages", sink.Partition{Day: "2026-04-01", Hour: "07"}, "batch-0001")
	require.NoError(t, err)
	require.Equal(t, "chat_messages/dt=2026-04-01/hr=07/batch-0001.parquet", key)
	require.NoError(t, sink.ValidateKey(key))
}

func TestLayoutRefusesEscapes(t *testing.T) {
	t.Parallel()
	day := sink.Partition{Day: "2026-04-01"}
	for _, tc := range []struct {
		table string
		part  sink.Partition
		name  string
	}{
		{"../etc", day, "x"},
		{"a/b", day, "x"},
		{"..", day, "x"},
		{"", day, "x"},
		{"Chat", day, "x"},
		{"chat-messages", day, "x"},
		{"_errors", day, "x"},
		{"_ddblake", day, "x"},
		{"_unknown", day, "x"},
		{strings.Repeat("a", 256), day, "x"},
		{"t", day, "../../../etc/passwd"},
		{"t", day, ".."},
		{"t", day, "a/b"},
		{"t", day, `a\b`},
		{"t", day, ".hidden"},
		{"t", day, "a..b"},
		{"t", day, ""},
		{"t", day, "-rf"},
		{"t", day, "nul\x00byte"},
		{"t", day, "naïve"},
		{"t", day, strings.Repeat("n", sink.MaxObjectNameLen+1)},
		{"t", sink.Partition{Day: "../../x"}, "x"},
		{"t", sink.Partition{Day: "2026-13-01"}, "x"},
		{"t", sink.Partition{Day: "2026-4-1"}, "x"},
		{"t", sink.Partition{Day: "2026-04-01", Hour: "24"}, "x"},
		{"t", sink.Partition{Day: "2026-04-01", Hour: "7"}, "x"},
		{"t", sink.Partition{Day: "2026-04-01", Hour: "../"}, "x"},
	} {
		key, err := sink.DataKey(tc.table, tc.part, tc.name)
		require.ErrorIs(t, err, sink.ErrBadName, "table %q partition %+v name %q gave %q", tc.table, tc.part, tc.name, key)
		require.Empty(t, key)
	}
	_, err := sink.DataKey("t", day, "../x")
	require.ErrorContains(t, err, `object name "../x"`, "the error names what was refused")
}

func TestQuarantineKey(t *testing.T) {
	t.Parallel()
	key, err := sink.QuarantineKey("chat_messages", "2026-04-01", "b-0000")
	require.NoError(t, err)
	require.Equal(t, "_errors/chat_messages/dt=2026-04-01/b-0000.jsonl", key)
	// A table that is not a valid lake name never becomes a path.
	for _, table := range []string{"", "../../etc", "Chat-Messages", "_errors", "a/b"} {
		key, err := sink.QuarantineKey(table, "2026-04-01", "b-0000")
		require.NoError(t, err)
		require.Equal(t, "_errors/_unknown/dt=2026-04-01/b-0000.jsonl", key, table)
	}
	_, err = sink.QuarantineKey("t", "2026-04-01", "../b")
	require.ErrorIs(t, err, sink.ErrBadName)
	_, err = sink.QuarantineKey("t", "yesterday", "b")
	require.ErrorIs(t, err, sink.ErrBadName)
}

func TestSchemaKey(t *testing.T) {
	t.Parallel()
	key, err := sink.SchemaKey("chat_messages")
	require.NoError(t, err)
	require.Equal(t, "_ddblake/schemas/chat_messages.json", key)
	require.True(t, strings.HasPrefix(key, sink.SchemasPrefix))
	_, err = sink.SchemaKey("../x")
	require.ErrorIs(t, err, sink.ErrBadName)
}

func TestPartitionOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ms     int64
		hourly bool
		want   string
	}{
		{apr1, false, "dt=2026-04-01"},
		{apr1 - 1, false, "dt=2026-03-31"},
		{apr1 - 1, true, "dt=2026-03-31/hr=23"},
		{apr1 + 7*3_600_000 + 59*60_000, true, "dt=2026-04-01/hr=07"},
		{0, true, "dt=1970-01-01/hr=00"},
		{-1, false, "dt=1969-12-31"},
	} {
		p := sink.PartitionOf(tc.ms, tc.hourly)
		require.Equal(t, tc.want, p.Path(), "%d", tc.ms)
		require.NoError(t, p.Validate())
	}
}

func TestValidateKey(t *testing.T) {
	t.Parallel()
	for _, good := range []string{"a", "t/dt=2026-04-01/x.parquet", "_ddblake/schemas/t.json", "A-b_c.d=e", "a..b"} {
		require.NoError(t, sink.ValidateKey(good), good)
	}
	for _, bad := range []string{"", "/a", "a/", "a//b", "..", "../a", "a/../b", "./a", "a/./b", `a\b`, ".a", "a/.b",
		"-a", "a b", "a\x00", "a\nb", "é", "a:b", "s3://x", strings.Repeat("a", 256), strings.Repeat("a/", 600) + "a"} {
		err := sink.ValidateKey(bad)
		require.ErrorIs(t, err, sink.ErrBadKey, "%q", bad)
	}
	for _, good := range []string{"", "t/", "t/dt=2026", "_errors/"} {
		require.NoError(t, sink.ValidatePrefix(good), good)
	}
	for _, bad := range []string{"/", "../", "a//", "a/../"} {
		require.ErrorIs(t, sink.ValidatePrefix(bad), sink.ErrBadKey, "%q", bad)
	}
}

func TestBatchIDs(t *testing.T) {
	t.Parallel()
	a := sink.ReplayBatchID("/data/export/data/abc.json.gz", 1234, "", 0)
	require.Equal(t, a, sink.ReplayBatchID("/data/export/data/abc.json.gz", 1234, "", 0), "deterministic")
	others := []string{
		sink.ReplayBatchID("/data/export/data/abc.json.gz", 1234, "", 1),
		sink.ReplayBatchID("/data/export/data/abc.json.gz", 1235, "", 0),
		sink.ReplayBatchID("/data/export/data/abc.json.gz", 1234, "etag", 0),
		sink.ReplayBatchID("/other/abc.json.gz", 1234, "", 0),
	}
	for _, o := range others {
		require.NotEqual(t, a, o)
	}
	require.True(t, strings.HasPrefix(a, "abc.json.gz-"), a)

	// Any identity gives a valid name, file names included.
	for _, src := range []string{"", "-", "s3://b/../../k", "../..", "C:\\x\\y.json", "데이터.json", "a..b", strings.Repeat("x", 5000), "\x00"} {
		id := sink.ReplayBatchID(src, -1, "\"etag/with/slash\"", 999999)
		require.NoError(t, sink.ValidateName(sink.FileName(id, 9999)), "%q -> %q", src, id)
	}
	arn := "arn:aws:dynamodb:ap-northeast-2:123456789012:table/chat-messages/stream/2026-01-01T00:00:00.000"
	l := sink.LambdaBatchID(arn, "shardId-00000001775001600000-a1b2c3d4", "111200000000003409224312", "111200000000003409224399")
	require.Equal(t, l, sink.LambdaBatchID(arn, "shardId-00000001775001600000-a1b2c3d4", "111200000000003409224312", "111200000000003409224399"))
	require.NotEqual(t, l, sink.LambdaBatchID(arn, "shardId-00000001775001600000-a1b2c3d4", "111200000000003409224312", "111200000000003409224398"))
	require.NotEqual(t, l, sink.LambdaBatchID(arn+"x", "shardId-00000001775001600000-a1b2c3d4", "111200000000003409224312", "111200000000003409224399"))
	kinesis := strings.Repeat("4", 56)
	require.NoError(t, sink.ValidateName(sink.FileName(sink.LambdaBatchID(arn, strings.Repeat("s", 300), kinesis, kinesis), 9999)))
	require.NoError(t, sink.ValidateName(sink.FileName(sink.LambdaBatchID("", "", "", ""), 0)))
}

// TestLayoutGolden pins the lake's naming: a change would make a rerun
// write new files beside the old ones instead of replacing them.
func TestLayoutGolden(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	replay := sink.ReplayBatchID("s3://bucket/exports/AWSDynamoDB/01234-abcd/data/xyz.json.gz", 52_428_800, `"9b2cf535f27731c974343645a3985328"`, 3)
	lambda := sink.LambdaBatchID("arn:aws:dynamodb:ap-northeast-2:123456789012:table/chat-messages/stream/2026-01-01T00:00:00.000",
		"shardId-00000001775001600000-a1b2c3d4", "000000000000000111200000000003409224312", "000000000000000111200000000003409224399")
	for _, id := range []string{replay, lambda} {
		k, err := sink.DataKey("chat_messages", sink.PartitionOf(apr1+5*3_600_000, true), sink.FileName(id, 0))
		require.NoError(t, err)
		fmt.Fprintln(&b, k)
		k, err = sink.DataKey("chat_messages", sink.PartitionOf(apr1, false), sink.FileName(id, 12))
		require.NoError(t, err)
		fmt.Fprintln(&b, k)
		k, err = sink.QuarantineKey("Bad Table!", "2026-04-01", id)
		require.NoError(t, err)
		fmt.Fprintln(&b, k)
	}
	k, err := sink.SchemaKey("chat_messages")
	require.NoError(t, err)
	fmt.Fprintln(&b, k)
	golden(t, "layout.golden", b.String())
}

// TestValidateTable: table names are 1-255 bytes of [a-z0-9_], checked
// byte by byte (every byte value, at every length edge) against the
// regular expression that states the rule.
func TestValidateTable(t *testing.T) {
	t.Parallel()
	rule := regexp.MustCompile(`^[a-z0-9_]{1,255}$`)
	names := []string{"", "a", "_", "0", strings.Repeat("a", 255), strings.Repeat("a", 256), strings.Repeat("_", 300), "naïve", "chat_messages"}
	for b := 0; b < 256; b++ {
		names = append(names, string([]byte{byte(b)}), "x"+string([]byte{byte(b)}), strings.Repeat("z", 254)+string([]byte{byte(b)}))
	}
	for _, name := range names {
		err := sink.ValidateTable(name)
		if rule.MatchString(name) {
			require.NoError(t, err, "%q", name)
		} else {
			require.ErrorIs(t, err, sink.ErrBadName, "%q", name)
		}
	}
}
