package e2e

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // the "duckdb" database/sql driver
	"github.com/stretchr/testify/require"
)

// openDuck opens an in-memory DuckDB that renders times in UTC.
func openDuck(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	require.NoError(t, err)
	db.SetMaxOpenConns(1) // one connection: SET applies to every query
	t.Cleanup(func() { db.Close() })
	_, err = db.Exec("SET TimeZone = 'UTC'")
	require.NoError(t, err)
	return db
}

// sqlString quotes s as an SQL string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// sqlIdent quotes s as an SQL identifier.
func sqlIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// tableGlob matches the Parquet files of a lake table.
func tableGlob(lake, table string) string {
	return filepath.ToSlash(filepath.Join(lake, table)) + "/*/*.parquet"
}

// tableScan is the relation of a lake table as a user reads it with DuckDB.
func tableScan(lake, table string) string {
	return "read_parquet(" + sqlString(tableGlob(lake, table)) + ", hive_partitioning=true, union_by_name=true)"
}

// lakeRow is one row read back: column name to the driver's Go value.
type lakeRow map[string]any

// queryRows runs q and returns its column names and rows.
func queryRows(t *testing.T, db *sql.DB, q string, args ...any) ([]string, []lakeRow) {
	t.Helper()
	rows, err := db.Query(q, args...)
	require.NoError(t, err, q)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(t, err)
	var out []lakeRow
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		r := make(lakeRow, len(cols))
		for i, c := range cols {
			r[c] = vals[i]
		}
		out = append(out, r)
	}
	require.NoError(t, rows.Err())
	return cols, out
}

// describe returns the DuckDB type of every column of a relation.
func describe(t *testing.T, db *sql.DB, relation string) map[string]string {
	t.Helper()
	_, rows := queryRows(t, db, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "+relation+")")
	out := map[string]string{}
	for _, r := range rows {
		out[r["column_name"].(string)] = r["column_type"].(string)
	}
	return out
}

// countRows runs a COUNT query.
func countRows(t *testing.T, db *sql.DB, q string) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRow(q).Scan(&n), q)
	return n
}

// regColumn is a column of the schema registry file, read as JSON.
type regColumn struct {
	Name     string `json:"name"`
	Path     string `json:"path"`
	Type     string `json:"type"`
	Source   string `json:"source"`
	Declared bool   `json:"declared"`
}

// registry is <lake>/_ddblake/schemas/<table>.json.
type registry struct {
	Table   string      `json:"table"`
	Keys    []string    `json:"keys"`
	Columns []regColumn `json:"columns"`
	byPath  map[string]regColumn
}

func readRegistry(t *testing.T, lake, table string) *registry {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(lake, "_ddblake", "schemas", table+".json"))
	require.NoError(t, err)
	var r registry
	require.NoError(t, json.Unmarshal(b, &r))
	require.Equal(t, table, r.Table)
	r.byPath = map[string]regColumn{}
	names := map[string]bool{}
	for _, c := range r.Columns {
		require.NotContains(t, r.byPath, c.Path, "a path has one column")
		require.False(t, names[c.Name], "column names are unique: %s", c.Name)
		require.Regexp(t, `^[a-z0-9_]{1,255}$`, c.Name)
		r.byPath[c.Path] = c
		names[c.Name] = true
	}
	return &r
}

// column returns the column of an attribute path.
func (r *registry) column(path string) (regColumn, bool) {
	c, ok := r.byPath[path]
	return c, ok
}

// duckType is the DuckDB type a registry type reads as from Parquet.
func duckType(t *testing.T, typ string) string {
	t.Helper()
	switch {
	case typ == "string" || typ == "json":
		return "VARCHAR"
	case typ == "bigint":
		return "BIGINT"
	case typ == "double":
		return "DOUBLE"
	case typ == "boolean":
		return "BOOLEAN"
	case typ == "binary":
		return "BLOB"
	case typ == "timestamp":
		return "TIMESTAMP WITH TIME ZONE"
	case strings.HasPrefix(typ, "decimal(") && strings.HasSuffix(typ, ")"):
		var p, s int
		_, err := fmt.Sscanf(typ, "decimal(%d,%d)", &p, &s)
		require.NoError(t, err, typ)
		return fmt.Sprintf("DECIMAL(%d,%d)", p, s)
	case strings.HasPrefix(typ, "array<") && strings.HasSuffix(typ, ">"):
		return duckType(t, typ[len("array<"):len(typ)-1]) + "[]"
	case strings.HasPrefix(typ, "map<string,") && strings.HasSuffix(typ, ">"):
		return "MAP(VARCHAR, " + duckType(t, typ[len("map<string,"):len(typ)-1]) + ")"
	}
	t.Fatalf("registry type %q has no DuckDB type", typ)
	return ""
}

// metadataTypes are the metadata columns and the DuckDB types they must
// read as. _event_time is INT64 TIMESTAMP(MILLIS, UTC): DuckDB reads an
// instant adjusted to UTC as TIMESTAMP WITH TIME ZONE.
var metadataTypes = map[string]string{
	"_event_name":      "VARCHAR",
	"_event_id":        "VARCHAR",
	"_event_time":      "TIMESTAMP WITH TIME ZONE",
	"_sequence_number": "VARCHAR",
	"_ttl_delete":      "BOOLEAN",
	"_extra":           "VARCHAR",
	"_old_image":       "VARCHAR",
}

// eventMillis reads a _event_time value as Unix milliseconds.
func eventMillis(t *testing.T, v any) int64 {
	t.Helper()
	tm, ok := v.(time.Time)
	require.True(t, ok, "_event_time is a time, got %T", v)
	return tm.UnixMilli()
}

// dayOf reads the dt partition value (DATE, or VARCHAR when DuckDB does
// not detect a date).
func dayOf(t *testing.T, v any) string {
	t.Helper()
	switch d := v.(type) {
	case time.Time:
		return d.UTC().Format(time.DateOnly)
	case string:
		return d
	}
	t.Fatalf("dt is %T", v)
	return ""
}

// treeState maps every path under dir (files and directories, hidden ones
// too) to its size and modification time, to tell whether anything changed.
func treeState(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = fmt.Sprintf("%v %d %d", d.Type(), info.Size(), info.ModTime().UnixNano())
		return nil
	}))
	return out
}
