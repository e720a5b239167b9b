package flatten

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/schemas"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestGolden flattens each testdata/flatten/<case>.json (a config and
// batches of items) and compares the schema and rows with
// <case>.golden.json. Run with -update to rewrite the golden files.
func TestGolden(t *testing.T) {
	cases, err := filepath.Glob("../testdata/flatten/*.json")
	require.NoError(t, err)
	n := 0
	for _, path := range cases {
		if strings.HasSuffix(path, ".golden.json") {
			continue
		}
		n++
		t.Run(filepath.Base(path), func(t *testing.T) {
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			var in struct {
				Config  TableConfig         `json:"config"`
				Batches [][]json.RawMessage `json:"batches"`
			}
			require.NoError(t, json.Unmarshal(raw, &in))
			if len(in.Config.Mask) > 0 {
				in.Config.MaskKey = testKey // masks in the golden files are under the tests' key
			}
			var batches [][]string
			for _, b := range in.Batches {
				var items []string
				for _, it := range b {
					items = append(items, string(it))
				}
				batches = append(batches, items)
			}
			s, rows, st := run(t, in.Config, batches...)
			out := struct {
				Columns []schemas.Column  `json:"columns"`
				Rows    []json.RawMessage `json:"rows"`
				Stats   Stats             `json:"stats"`
			}{Columns: s.Columns, Stats: st}
			for i := range rows {
				out.Rows = append(out.Rows, AppendRowJSON(nil, s, &rows[i]))
			}
			got, err := json.MarshalIndent(out, "", "  ")
			require.NoError(t, err)
			golden := strings.TrimSuffix(path, ".json") + ".golden.json"
			if *update {
				require.NoError(t, os.WriteFile(golden, append(got, '\n'), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./flatten -run TestGolden -update")
			require.JSONEq(t, string(want), string(got))
		})
	}
	require.NotZero(t, n)
}
