package cli_test

import (
	"context"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/cmd/ddblake/cli"
	"github.com/ddblake/ddblake/internal/laketest"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/localstore"
	"github.com/ddblake/ddblake/sink/manifest"
)

// listedRows reads every row the manifests of the lake's tables list, as
// sorted lines prefixed by table and partition, and counts the files.
func listedRows(t *testing.T, st sink.Store) ([]string, int) {
	t.Helper()
	ctx := context.Background()
	tables, err := sink.NewRegistry(st).Tables(ctx)
	require.NoError(t, err)
	var rows []string
	files := 0
	for _, table := range tables {
		parts, err := manifest.Scan(ctx, st, table)
		require.NoError(t, err)
		for _, p := range parts {
			l, err := manifest.Read(ctx, st, table, p.Partition)
			require.NoError(t, err)
			files += len(l.Keys)
			for _, k := range l.Keys {
				body, err := st.Get(ctx, k)
				require.NoError(t, err)
				for _, r := range laketest.RowStrings(t, body) {
					rows = append(rows, table+" "+p.Partition.Path()+" "+r)
				}
			}
		}
	}
	slices.Sort(rows)
	return rows, files
}

var compactLineRE = regexp.MustCompile(`^compacted 2 tables: (\d+) partitions looked at, (\d+) compacted(?:: ([\d,]+) files → ([\d,]+) files, [\d.]+ (?:B|KiB|MiB) → [\d.]+ (?:B|KiB|MiB))?; ([\d,]+) files? written, ([\d,]+) files? listed, ([\d,]+) replaced files? deleted; [\d.]+s\n$`)

// TestCompactCommand replays the sample (many inputs, a file per input
// and partition), then compacts:
// the manifests list the same rows in far fewer files; a second run
// changes nothing; --grace 0s deletes the replaced files.
func TestCompactCommand(t *testing.T) {
	t.Parallel()
	lake := filepath.Join(t.TempDir(), "lake")
	res := ddblake(t, "", "replay", "--to", lake, "--chunk-size", "8KiB", fixture("sample"))
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	st, err := localstore.New(lake)
	require.NoError(t, err)
	before, files := listedRows(t, st)
	require.Len(t, before, 381)
	require.Greater(t, files, 20, "a file per input and partition")

	res = ddblake(t, "", "compact", "--lake", lake)
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	m := compactLineRE.FindStringSubmatch(res.stderr)
	require.NotNil(t, m, res.stderr)
	require.Equal(t, m[1], m[2], "every partition of the sample is closed and compacted")
	require.Equal(t, files, atoi(t, m[3]))
	after, n := listedRows(t, st)
	require.Equal(t, atoi(t, m[4]), n)
	require.Equal(t, m[1], m[4], "one file per partition")
	require.Equal(t, before, after, "the same rows")

	snapshot := laketest.Files(t, lake)
	res = ddblake(t, "", "compact", "--lake", lake)
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	require.Contains(t, res.stderr, ", 0 compacted; 0 files written, 0 files listed, 0 replaced files deleted;")
	require.Equal(t, snapshot, laketest.Files(t, lake), "a second run changes nothing")

	res = ddblake(t, "", "compact", "--lake", lake, "--grace", "0s", "--table", "chat_rooms", "--dt", "2026-04-01..")
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	require.Regexp(t, `^compacted 1 table: \d+ partitions? looked at, 0 compacted; 0 files written, 0 files listed, [1-9][\d,]* replaced files deleted`, res.stderr)
	after, _ = listedRows(t, st)
	require.Equal(t, before, after)
}

// TestCompactCommandS3 compacts a lake in S3 (an in-process server).
func TestCompactCommandS3(t *testing.T) {
	fakeS3(t, "lake-bucket")
	res := ddblake(t, "", "replay", "--to", "s3://lake-bucket/lake", "--chunk-size", "16KiB", fixture("sample"))
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	res = ddblake(t, "", "compact", "--lake", "s3://lake-bucket/lake", "--grace", "0s")
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	m := compactLineRE.FindStringSubmatch(res.stderr)
	require.NotNil(t, m, res.stderr)
	require.Equal(t, m[1], m[4], "one file per partition")
	require.NotEqual(t, "0", m[7], "replaced files deleted")
}

func TestCompactUsage(t *testing.T) {
	lake := filepath.Join(t.TempDir(), "lake")
	res := ddblake(t, "", "replay", "--to", lake, fixture("sample", "lambda"))
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	for _, args := range [][]string{
		{"compact"},
		{"compact", "--lake", lake, "extra"},
		{"compact", "--lake", lake, "--dt", "2026-04-31"},
		{"compact", "--lake", lake, "--dt", "2026-04-05..2026-04-01"},
		{"compact", "--lake", lake, "--dt", ".."},
		{"compact", "--lake", lake, "--table", "nope"},
		{"compact", "--lake", lake, "--settle", "-1h"},
		{"compact", "--lake", lake, "--grace", "soon"},
	} {
		res := ddblake(t, "", args...)
		require.Equal(t, cli.ExitUsage, res.code, "%v: %s", args, res.stderr)
	}
	res = ddblake(t, "", "compact", "--lake", filepath.Join(t.TempDir(), "missing"))
	require.Equal(t, cli.ExitFailed, res.code, res.stderr)
	empty := t.TempDir()
	res = ddblake(t, "", "compact", "--lake", empty)
	require.Equal(t, cli.ExitFailed, res.code, res.stderr)
	require.Contains(t, res.stderr, "no tables")
}
