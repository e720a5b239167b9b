package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/cmd/ddblake/cli"
	"github.com/ddblake/ddblake/internal/laketest"
)

// TestLatestCommand materializes the sample's states, then prints the DDL
// that reads them; a second run changes nothing; alter --previous gives
// the state tables and the views over them.
func TestLatestCommand(t *testing.T) {
	lake := filepath.Join(t.TempDir(), "lake")
	res := ddblake(t, "", "replay", "--to", lake, fixture("sample"))
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	before := filepath.Join(t.TempDir(), "before")
	require.NoError(t, os.CopyFS(filepath.Join(before, "_ddblake"), os.DirFS(filepath.Join(lake, "_ddblake"))))

	res = ddblake(t, "", "latest", "--lake", lake)
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	line := regexp.MustCompile(`^latest: 2 tables: chat_messages through (\d{4}-\d\d-\d\d): ([\d,]+) items \((g\d{6}-[0-9a-f]{16}), [\d,]+ tombstones?\) from \d+ partitions, [\d.]+ KiB read; chat_rooms through \d{4}-\d\d-\d\d: [\d,]+ items \(g\d{6}-[0-9a-f]{16}, [\d,]+ tombstones?\) from \d+ partitions, [\d.]+ KiB read; [\d.]+s\n$`)
	m := line.FindStringSubmatch(res.stderr)
	require.NotNil(t, m, res.stderr)
	gen := m[3]

	state := laketest.Files(t, lake)
	res = ddblake(t, "", "latest", "--lake", lake)
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	require.Contains(t, res.stderr, "chat_messages unchanged through "+m[1])
	require.Equal(t, state, laketest.Files(t, lake), "a second run changes nothing")

	res = ddblake(t, "", "ddl", "--lake", lake, "--location", "s3://my-lake/ddb")
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	require.Contains(t, res.stdout, "CREATE EXTERNAL TABLE IF NOT EXISTS `ddblake`.`chat_messages__state`")
	require.Contains(t, res.stdout, `"_generation" = '`+gen+`'`)
	require.Contains(t, res.stdout, `WHERE "dt" > '`+m[1]+`'`)

	res = ddblake(t, "", "ddl", "--lake", lake, "--location", "s3://my-lake/ddb", "--format", "alter", "--previous", before)
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	require.Contains(t, res.stdout, "CREATE EXTERNAL TABLE IF NOT EXISTS `ddblake`.`chat_messages__state`")
	require.Contains(t, res.stdout, `CREATE OR REPLACE VIEW "ddblake"."chat_messages_latest"`)
	require.NotContains(t, res.stdout, "CREATE EXTERNAL TABLE IF NOT EXISTS `ddblake`.`chat_messages` (", "the table exists")

	res = ddblake(t, "", "ddl", "--lake", lake, "--location", "s3://my-lake/ddb", "--format", "glue")
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	require.Equal(t, 4, strings.Count(res.stdout, `"TableType": "EXTERNAL_TABLE"`), "two tables and their state tables")
}

func TestLatestUsage(t *testing.T) {
	lake := filepath.Join(t.TempDir(), "lake")
	res := ddblake(t, "", "replay", "--to", lake, fixture("sample", "lambda"))
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	for _, args := range [][]string{
		{"latest"},
		{"latest", "--lake", lake, "x"},
		{"latest", "--lake", lake, "--through", "2026-02-30"},
		{"latest", "--lake", lake, "--through", "2999-01-01"},
		{"latest", "--lake", lake, "--table", "nope"},
		{"latest", "--lake", lake, "--settle", "-2h"},
	} {
		res := ddblake(t, "", args...)
		require.Equal(t, cli.ExitUsage, res.code, "%v: %s", args, res.stderr)
	}
	res = ddblake(t, "", "latest", "--lake", lake, "--through", "2999-01-01", "--force")
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
}
