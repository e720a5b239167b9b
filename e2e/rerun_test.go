package e2e

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/laketest"
)

// TestRerunIsIdempotent replays the sample (every format), the input
// fixtures and a file with bad records, then replays the same sources
// again, and again in the reverse order: the lake keeps exactly the same
// files, byte for byte (data, set-aside records and registry), and DuckDB
// counts the same rows.
func TestRerunIsIdempotent(t *testing.T) {
	t.Parallel()
	lake := filepath.Join(t.TempDir(), "lake")
	sources := []string{
		fixture("sample"),
		fixture("inputs", "lambda", "chat_stream.json"),
		fixture("inputs", "lambda", "new_image.json"),
		fixture("inputs", "kinesis", "chat_us.json"),
		fixture("inputs", "jsonl", "stream.jsonl.gz"),
		fixture("inputs", "export", "full"),
		fixture("inputs", "incremental", "chat"),
		fixture("inputs", "lambda", "bad_records.json"),
	}
	first := replay(t, lake, 3, sources...).Summary(t)
	require.Positive(t, first.SetAside, "the bad records are set aside: %s", first.Line)
	files := laketest.Files(t, lake)
	require.NotEmpty(t, files)
	var parquet, aside int
	for k := range files {
		switch {
		case strings.HasSuffix(k, ".parquet"):
			parquet++
		case strings.HasPrefix(k, "_errors/"):
			aside++
		}
	}
	require.Positive(t, parquet)
	require.Positive(t, aside)

	db := openDuck(t)
	count := func() map[string]int {
		out := map[string]int{}
		for _, table := range []string{"chat_messages", "chat_rooms"} {
			out[table] = countRows(t, db, "SELECT count(*) FROM "+tableScan(lake, table))
		}
		return out
	}
	rows := count()
	var badRecords []recordRef
	for _, a := range []asideWant{{Source: "lambda/bad_records.json", From: 1, To: 10}} {
		badRecords = append(badRecords, a.refs()...)
	}
	recs := append(readFixtures(t, "", sources[:len(sources)-1]...), readGood(t, badRecords, sources[len(sources)-1])...)
	want := countBy(recs, func(r expRecord) string { return r.Table })
	for table, n := range rows {
		require.Equal(t, want[table], n, "rows of %s", table)
	}

	again := replay(t, lake, 3, sources...).Summary(t)
	require.Equal(t, first.Records, again.Records)
	require.Equal(t, first.Rows, again.Rows)
	require.Equal(t, files, laketest.Files(t, lake), "a rerun leaves the lake byte-identical")
	require.Equal(t, rows, count())

	reversed := slices.Clone(sources)
	slices.Reverse(reversed)
	replay(t, lake, 3, reversed...)
	require.Equal(t, files, laketest.Files(t, lake), "a rerun in another order leaves the lake byte-identical")
	require.Equal(t, rows, count())
}

// TestFreshReplaysAgree rebuilds a lake from the same sources several
// times, from scratch: every rebuild must give the same files, byte for
// byte — the same registry (column names, their order, first_seen) and the
// same Parquet files. Otherwise a column such as reactions_4 (an emoji key,
// whose name comes from the collision rule) would hold a different
// attribute after a rebuild, and tables defined from the old registry would
// misread the new files. The replay writes batches in parallel, so the
// rebuilds are repeated to give a nondeterministic order the chance to show.
func TestFreshReplaysAgree(t *testing.T) {
	t.Parallel()
	const rebuilds = 8
	var first map[string]string
	for i := range rebuilds {
		lake := filepath.Join(t.TempDir(), "lake")
		replay(t, lake, 0, fixture("sample"))
		files := laketest.Files(t, lake)
		if i == 0 {
			first = files
			continue
		}
		require.Equal(t, first, files, "rebuild %d of the sample's lake differs from the first", i+1)
	}
}
