package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/sample"
)

// TestIonExportMatchesJSON writes the sample's full and incremental
// exports of both tables once in DYNAMODB_JSON and once in ION, replays
// each into its own lake with the binary, and reads both lakes back with
// DuckDB: each table has the same columns of the same types and the same
// rows, value by value.
func TestIonExportMatchesJSON(t *testing.T) {
	t.Parallel()
	g, err := sample.New(sample.DefaultConfig())
	require.NoError(t, err)
	dir := t.TempDir()
	lakes := map[string]string{}
	rows := map[string]int{}
	for _, format := range []string{sample.ExportJSON, sample.ExportION} {
		in := filepath.Join(dir, "in-"+format)
		sum, err := g.WriteExports(context.Background(), in, format)
		require.NoError(t, err)
		n := 0
		for _, f := range sum.Files {
			n += f.Records
		}
		lake := filepath.Join(dir, "lake-"+format)
		require.NoError(t, os.Mkdir(lake, 0o755))
		res := replay(t, lake, 0, in)
		require.Equal(t, n, res.Summary(t).Rows, "every item becomes a row")
		lakes[format], rows[format] = lake, n
	}
	require.Equal(t, rows[sample.ExportJSON], rows[sample.ExportION])

	db := openDuck(t)
	for _, table := range []string{"chat_messages", "chat_rooms"} {
		jsonScan, ionScan := tableScan(lakes[sample.ExportJSON], table), tableScan(lakes[sample.ExportION], table)
		require.Equal(t, describe(t, db, jsonScan), describe(t, db, ionScan), "%s: columns and types", table)
		q := func(scan string) []string {
			_, rs := queryRows(t, db, "SELECT to_json(r)::VARCHAR AS j FROM "+scan+" r ORDER BY j")
			out := make([]string, len(rs))
			for i, r := range rs {
				out[i] = r["j"].(string)
			}
			return out
		}
		want, got := q(jsonScan), q(ionScan)
		require.NotEmpty(t, want, table)
		require.Equal(t, len(want), len(got), "%s: rows", table)
		for i := range want {
			require.Equal(t, want[i], got[i], "%s: row %d", table, i)
		}
	}
}
