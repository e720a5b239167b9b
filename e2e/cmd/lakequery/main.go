// Command lakequery runs SQL over a local ddblake lake with DuckDB, the
// way Athena would see it: one view per table over the Parquet files its
// partitions' manifests list (dt, and hr for hourly tables, read from the
// folder names), and a <table>_latest view of each item's current state.
//
//	lakequery -lake ./lake "SELECT _event_name, count(*) FROM chat_messages GROUP BY 1"
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/localstore"
	"github.com/ddblake/ddblake/sink/manifest"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lakequery", flag.ContinueOnError)
	fs.SetOutput(stderr)
	lake := fs.String("lake", "./lake", "the lake directory")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: lakequery [-lake DIR] SQL...")
		return 2
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		fmt.Fprintln(stderr, "lakequery:", err)
		return 1
	}
	defer db.Close()
	if err := defineViews(ctx, db, *lake, stderr); err != nil {
		fmt.Fprintln(stderr, "lakequery:", err)
		return 1
	}
	for _, q := range fs.Args() {
		if err := query(ctx, db, q, stdout); err != nil {
			fmt.Fprintln(stderr, "lakequery:", err)
			return 1
		}
	}
	return 0
}

// defineViews creates a view per table of the lake's registry over the
// files its manifests list (a table with none gets no view) and, for
// tables whose keys are known, the <table>_latest view. Files a
// partition's folder holds and no manifest lists are not read, as Athena
// does not read them; their number is reported on w.
func defineViews(ctx context.Context, db *sql.DB, lake string, w io.Writer) error {
	store, err := localstore.New(lake)
	if err != nil {
		return err
	}
	reg, err := sink.NewRegistry(store).LoadAll(ctx)
	if err != nil {
		return err
	}
	if len(reg.Tables()) == 0 {
		return fmt.Errorf("no tables in %s (run ddblake replay first)", lake)
	}
	for _, table := range reg.Tables() {
		s, _ := reg.Get(table)
		keys, unlisted, err := manifest.Files(ctx, store, table)
		if err != nil {
			return err
		}
		if unlisted > 0 {
			fmt.Fprintf(w, "lakequery: %s: %d files no manifest lists are not read (ddblake compact lists them)\n", table, unlisted)
		}
		if len(keys) == 0 {
			fmt.Fprintf(w, "lakequery: %s: no files listed; no view\n", table)
			continue
		}
		src := tableScan(lake, keys, s.Hourly)
		if _, err := db.ExecContext(ctx, fmt.Sprintf(`CREATE VIEW %q AS SELECT * FROM %s`, table, src)); err != nil {
			return fmt.Errorf("view %s: %w", table, err)
		}
		if len(s.Keys) == 0 {
			continue
		}
		latest, err := schemas.LatestSelect(s, fmt.Sprintf("%q", table))
		if err != nil {
			return err
		}
		if _, err := db.ExecContext(ctx, fmt.Sprintf(`CREATE VIEW %q AS %s`, schemas.LatestViewName(table), latest)); err != nil {
			return fmt.Errorf("view %s: %w", schemas.LatestViewName(table), err)
		}
	}
	return nil
}

// tableScan is the DuckDB relation of a table's files: read_parquet over
// their paths (keys under the lake directory), with the partition
// columns read from the folder names as strings, and columns merged by
// name (a file holds only the columns its rows use).
func tableScan(lake string, keys []string, hourly bool) string {
	paths := make([]string, len(keys))
	for i, k := range keys {
		paths[i] = "'" + strings.ReplaceAll(filepath.ToSlash(filepath.Join(lake, k)), "'", "''") + "'"
	}
	types := "{'dt': VARCHAR}"
	if hourly {
		types = "{'dt': VARCHAR, 'hr': VARCHAR}"
	}
	return fmt.Sprintf("read_parquet([%s], hive_partitioning = true, union_by_name = true, hive_types = %s)",
		strings.Join(paths, ", "), types)
}

func query(ctx context.Context, db *sql.DB, q string, out io.Writer) error {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(cols, "\t"))
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		cells := make([]string, len(cols))
		for i, v := range vals {
			switch x := v.(type) {
			case nil:
				cells[i] = "NULL"
			case []byte:
				cells[i] = fmt.Sprintf("%x", x)
			default:
				cells[i] = strings.ReplaceAll(fmt.Sprint(x), "\n", " ")
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return tw.Flush()
}
