// Command lakequery runs SQL over a local ddblake lake with DuckDB, the
// way Athena would see it: one view per table over the Parquet files its
// partitions' manifests list (dt, and hr for hourly tables, read from the
// folder names), and a <table>_latest view of each item's current state,
// read from the table's materialized state and the days after it when
// ddblake latest built one (see the lakeviews package).
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
	"strings"
	"text/tabwriter"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/ddblake/ddblake/e2e/lakeviews"
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

// defineViews creates the lake's views (see lakeviews.Define).
func defineViews(ctx context.Context, db *sql.DB, lake string, w io.Writer) error {
	_, err := lakeviews.Define(ctx, db, lake, w)
	return err
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
