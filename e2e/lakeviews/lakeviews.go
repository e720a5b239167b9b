// Package lakeviews defines, in a DuckDB database, the views a user
// queries a local ddblake lake through, as Athena would show it: one view
// per table over the files its partitions' manifests list, and a
// <table>_latest view of each item's current state. lakequery and the
// end-to-end tests use it.
//
// When a table has a materialized latest state (ddblake latest), its
// latest view ranks the state and only the partitions after it, plus the
// partitions the state covers whose files changed since it was built (a
// late arrival, a compaction) together with the state's tombstones, so
// that it shows what the view over the whole table shows at every
// moment. A state that covers a partition that is gone is not used.
package lakeviews

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/latest"
	"github.com/ddblake/ddblake/sink/localstore"
	"github.com/ddblake/ddblake/sink/manifest"
)

// Table is what Define found of one table.
type Table struct {
	Schema *schemas.Schema
	// Files are the files the table view reads (keys), Unlisted the
	// number of files of its partitions no manifest lists.
	Files    []string
	Unlisted int
	// State is the materialized state the latest view uses, or nil.
	State *latest.State
	// LatestFiles are the files the latest view reads (keys): the state's
	// and the partitions' it ranks.
	LatestFiles []string
	// Late lists the partitions the state covers whose files changed.
	Late []string
}

// Define creates, in db, a view per table of the lake's registry (none
// for a table with no listed files) and, for tables whose keys are known,
// the <table>_latest view. It returns what it read of each table; notes
// for a person go to w.
func Define(ctx context.Context, db *sql.DB, lake string, w io.Writer) ([]Table, error) {
	store, err := localstore.New(lake)
	if err != nil {
		return nil, err
	}
	reg, err := sink.NewRegistry(store).LoadAll(ctx)
	if err != nil {
		return nil, err
	}
	if len(reg.Tables()) == 0 {
		return nil, fmt.Errorf("no tables in %s (run ddblake replay first)", lake)
	}
	var out []Table
	for _, name := range reg.Tables() {
		s, _ := reg.Get(name)
		t, err := define(ctx, db, store, lake, s, w)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func define(ctx context.Context, db *sql.DB, store sink.Store, lake string, s *schemas.Schema, w io.Writer) (Table, error) {
	t := Table{Schema: s}
	parts, err := manifest.Scan(ctx, store, s.Table)
	if err != nil {
		return t, err
	}
	hashes := map[string]string{}
	byPart := map[string][]string{}
	for _, pf := range parts {
		l, err := manifest.Read(ctx, store, s.Table, pf.Partition)
		if err != nil {
			return t, err
		}
		if len(l.Keys) > 0 {
			hashes[pf.Partition.Path()] = latest.PartitionHash(l.Keys)
			byPart[pf.Partition.Path()] = l.Keys
		}
		t.Files = append(t.Files, l.Keys...)
	}
	if _, t.Unlisted, err = manifest.Files(ctx, store, s.Table); err != nil {
		return t, err
	}
	if t.Unlisted > 0 {
		fmt.Fprintf(w, "lakeviews: %s: %d files no manifest lists are not read (ddblake compact lists them)\n", s.Table, t.Unlisted)
	}
	if len(t.Files) == 0 {
		fmt.Fprintf(w, "lakeviews: %s: no files listed; no view\n", s.Table)
		return t, nil
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf(`CREATE OR REPLACE VIEW %s AS SELECT * FROM %s`, ident(s.Table), Scan(lake, t.Files, s.Hourly))); err != nil {
		return t, fmt.Errorf("view %s: %w", s.Table, err)
	}
	if len(s.Keys) == 0 {
		return t, nil
	}
	from := ident(s.Table)
	st, _, err := latest.Load(ctx, store, s.Table)
	if err != nil {
		return t, err
	}
	if st != nil {
		late, gone := st.Late(hashes)
		if gone {
			fmt.Fprintf(w, "lakeviews: %s: a partition the latest state %s covers is gone; the view reads the whole table\n", s.Table, st.Generation)
			st = nil
		} else {
			t.State, t.Late = st, late
		}
	}
	if t.State != nil {
		state := t.State.Live
		var parts []string
		if len(t.Late) > 0 {
			// Changes that came after the state was built: ranked with
			// the state, whose tombstones keep older ones out.
			state = append(state, t.State.Removed...)
			for _, p := range t.Late {
				parts = append(parts, byPart[p]...)
			}
		}
		for p, keys := range byPart {
			day, _, _ := strings.Cut(strings.TrimPrefix(p, schemas.PartitionDay+"="), "/")
			if day > t.State.Through {
				parts = append(parts, keys...)
			}
		}
		t.LatestFiles = append(append([]string(nil), state...), parts...)
		var froms []string
		for _, rel := range []string{scanFiles(lake, state), Scan(lake, parts, s.Hourly)} {
			if rel == "" {
				continue
			}
			f, err := Padded(ctx, db, s, rel)
			if err != nil {
				return t, err
			}
			froms = append(froms, f)
		}
		if len(froms) == 0 {
			froms = []string{empty(s)} // an empty state and no later day
		}
		from = schemas.LatestHistory(s, froms...)
	} else {
		t.LatestFiles = t.Files
	}
	sel, err := schemas.LatestSelect(s, from)
	if err != nil {
		return t, err
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf(`CREATE OR REPLACE VIEW %s AS %s`, ident(schemas.LatestViewName(s.Table)), sel)); err != nil {
		return t, fmt.Errorf("view %s: %w", schemas.LatestViewName(s.Table), err)
	}
	return t, nil
}

// Scan is the relation of a table's files (keys under the lake): their
// columns merged by name (a file holds only the columns its rows use),
// with the partition columns read from the folder names as strings. No
// files give "".
func Scan(lake string, keys []string, hourly bool) string {
	if len(keys) == 0 {
		return ""
	}
	types := "{'dt': VARCHAR}"
	if hourly {
		types = "{'dt': VARCHAR, 'hr': VARCHAR}"
	}
	return "read_parquet(" + paths(lake, keys) + ", hive_partitioning = true, union_by_name = true, hive_types = " + types + ")"
}

// scanFiles is the relation of files whose partition columns are in the
// files (a state's).
func scanFiles(lake string, keys []string) string {
	if len(keys) == 0 {
		return ""
	}
	return "read_parquet(" + paths(lake, keys) + ", hive_partitioning = false, union_by_name = true)"
}

func paths(lake string, keys []string) string {
	quoted := make([]string, len(keys))
	for i, k := range keys {
		quoted[i] = "'" + strings.ReplaceAll(filepath.ToSlash(filepath.Join(lake, k)), "'", "''") + "'"
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// Padded is rel with every column the latest view ranks (the table's
// then its partition columns), nulls for those its files lack: a column
// may be in the state's files and not in the later partitions', or the
// other way.
func Padded(ctx context.Context, db *sql.DB, s *schemas.Schema, rel string) (string, error) {
	rows, err := db.QueryContext(ctx, "SELECT column_name FROM (DESCRIBE SELECT * FROM "+rel+")")
	if err != nil {
		return "", err
	}
	have := map[string]bool{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return "", err
		}
		have[c] = true
	}
	if err := rows.Close(); err != nil {
		return "", err
	}
	var cols []string
	for _, c := range append(schemas.TableColumns(s), schemas.PartitionColumns(s)...) {
		if have[c.Name] {
			cols = append(cols, ident(c.Name))
		} else {
			cols = append(cols, "NULL AS "+ident(c.Name))
		}
	}
	return "(SELECT " + strings.Join(cols, ", ") + " FROM " + rel + ")", nil
}

// empty is a relation of no rows with the columns the latest view ranks.
func empty(s *schemas.Schema) string {
	var cols []string
	for _, c := range append(schemas.TableColumns(s), schemas.PartitionColumns(s)...) {
		cols = append(cols, "NULL AS "+ident(c.Name))
	}
	return "(SELECT " + strings.Join(cols, ", ") + " WHERE false)"
}

func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
