package e2e

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMisfitsKeptInExtra replays a first event that creates the columns of
// table e2e-misfits, then, in a second run, values that do not fit them (a
// fraction where bigint was inferred, a larger scale, 10^40 in a
// decimal(38,0), an N where S was seen and the reverse, a mixed list, a
// fractional number set, a NULL with no column) and values at the very
// edges of the types. Column types never change; the misfits are in _extra
// as DynamoDB JSON, nested as in the image; everything else is typed.
func TestMisfitsKeptInExtra(t *testing.T) {
	t.Parallel()
	lake := filepath.Join(t.TempDir(), "lake")
	first := fixture("e2e", "misfits", "1-create.json")
	second := fixture("e2e", "misfits", "2-misfit.json")

	replay(t, lake, 0, first)
	types := func() map[string]string {
		out := map[string]string{}
		for _, c := range readRegistry(t, lake, "e2e_misfits").Columns {
			out[c.Name] = c.Type
		}
		return out
	}
	created := map[string]string{
		"id":          "string",
		"count":       "bigint",
		"price":       "decimal(38,2)",
		"trace_no":    "decimal(38,0)",
		"label":       "string",
		"stats_views": "bigint",
		"stats_ratio": "decimal(38,1)",
		"active":      "boolean",
		"thumb":       "binary",
		"tags":        "array<string>",
		"scores":      "array<bigint>",
		"names":       "array<string>",
	}
	require.Equal(t, created, types(), "column types inferred from the first event")

	res := replay(t, lake, 0, second)
	sum := res.Summary(t)
	require.Equal(t, 10, sum.Misfits, "the values kept in _extra for not fitting are counted (not the NULL): %s", sum.Line)
	after := types()
	for name, typ := range created {
		require.Equal(t, typ, after[name], "the type of %s never changes", name)
	}
	require.Equal(t, "bigint", after["fresh"], "a new attribute adds a column")
	require.NotContains(t, after, "gone", "a NULL makes no column")
	cols := readRegistry(t, lake, "e2e_misfits").Columns
	require.Equal(t, "fresh", cols[len(cols)-1].Name, "new columns are appended")

	db := openDuck(t)
	_, rows := queryRows(t, db, "SELECT _event_id, _extra, CAST(trace_no AS VARCHAR) AS trace, CAST(price AS VARCHAR) AS price, "+
		"count, stats_views, CAST(dt AS VARCHAR) AS dt, CAST(_event_time AS VARCHAR) AS at FROM "+tableScan(lake, "e2e_misfits")+" ORDER BY _event_id")
	require.Len(t, rows, 3)
	require.Nil(t, rows[0]["_extra"])
	require.Equal(t, "12345678901234567890123456789012345678", rows[0]["trace"])
	require.Equal(t, "1.25", rows[0]["price"])
	require.Equal(t, "2026-04-01", rows[0]["dt"])

	require.JSONEq(t, `{
		"count": {"N": "3.5"},
		"price": {"N": "1.255"},
		"traceNo": {"N": "1E+40"},
		"label": {"N": "5"},
		"stats": {"M": {"views": {"S": "seven"}, "ratio": {"N": "0.25"}}},
		"active": {"S": "true"},
		"scores": {"NS": ["1.5", "2"]},
		"names": {"L": [{"S": "x"}, {"N": "1"}]},
		"gone": {"NULL": true}
	}`, rows[1]["_extra"].(string))
	require.Nil(t, rows[1]["trace"])
	require.Nil(t, rows[1]["count"])
	require.Equal(t, "2026-04-02 00:00:00.25+00", rows[1]["at"], "fractional epoch seconds keep their milliseconds")

	require.JSONEq(t, `{"stats": {"M": {"ratio": {"N": "1E-2"}}}, "names": {"L": []}}`, rows[2]["_extra"].(string),
		"an empty list is kept in _extra though names has a column")
	require.Equal(t, "-99999999999999999999999999999999999999", rows[2]["trace"])
	require.Equal(t, "99999999999999999999999999999999999.99", rows[2]["price"])
	require.Equal(t, int64(-9223372036854775808), rows[2]["count"])
	require.Equal(t, int64(9223372036854775807), rows[2]["stats_views"])
	require.Equal(t, "2026-04-02", rows[2]["dt"], "23:59:59.999 UTC stays in its day")

	// And the whole table, value by value, against the oracle.
	assertLake(t, lake, readFixtures(t, "", first, second))
}
