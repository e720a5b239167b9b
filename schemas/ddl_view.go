package schemas

import (
	"fmt"
	"strings"
)

// latestSuffix is appended to a table name to name its latest-state view.
const latestSuffix = "_latest"

// LatestViewSuffix is appended to a table name to name its latest-state
// view; no lake table name ends with it, so a view never takes a table's
// name.
const LatestViewSuffix = latestSuffix

// latestRank is the helper column that ranks an item's rows, newest first.
// Data column names never start with '_' (sanitizing trims it), and
// metadata columns do not take this name.
const latestRank = "_latest_rank"

// LatestViewName returns the name of the latest-state view of table.
func LatestViewName(table string) string { return table + latestSuffix }

// KeyColumns returns the column names of the table's key attributes
// (s.Keys, hash key first), found through the columns' attribute paths.
// It fails with ErrNoKeys when s.Keys is empty or a key attribute has no
// column.
func KeyColumns(s *Schema) ([]string, error) {
	if len(s.Keys) == 0 {
		return nil, &DefinitionError{Table: s.Table, Err: fmt.Errorf(
			"%w: the schema records no key attributes, so rows of one item cannot be told apart (replay stream events or an incremental export, or declare keys: in the configuration)", ErrNoKeys)}
	}
	cols := make([]string, 0, len(s.Keys))
	for _, k := range s.Keys {
		i, ok := s.Lookup(attributePath(k))
		if !ok {
			return nil, &DefinitionError{Table: s.Table, Err: fmt.Errorf(
				"%w: key attribute %q has no column", ErrNoKeys, k)}
		}
		cols = append(cols, s.Columns[i].Name)
	}
	return cols, nil
}

// attributePath is the path of a top-level attribute: its name with '.'
// and '\' escaped by '\' (the spelling of flatten.JoinPath).
func attributePath(name string) string {
	if !strings.ContainsAny(name, `.\`) {
		return name
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		if c := name[i]; c == '.' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(name[i])
	}
	return b.String()
}

// LatestSelect returns the SELECT of the latest-state view, reading from
// the relation from (put verbatim in the FROM clause: a quoted table name
// such as QualifiedName(db, table), or any table function such as
// DuckDB's read_parquet(...)). The relation must have every column of the
// table, partition columns included.
//
// For each item (the key columns, see KeyColumns) it keeps the newest row,
// by _event_time then _sequence_number, both descending with nulls last,
// and drops the item when that row is a REMOVE. The SQL is the subset
// Athena (Trino) and DuckDB both accept: double-quoted identifiers,
// row_number() OVER (PARTITION BY ... ORDER BY ...), a derived table. The
// result has the table's columns in table order, partition columns last.
// It fails like KeyColumns and ValidateForAthena.
func LatestSelect(s *Schema, from string) (string, error) {
	if err := ValidateForAthena(s); err != nil {
		return "", err
	}
	keys, err := KeyColumns(s)
	if err != nil {
		return "", err
	}
	cols := append(TableColumns(s), PartitionColumns(s)...)
	quotedKeys := make([]string, len(keys))
	for i, k := range keys {
		quotedKeys[i] = quoteSQLIdent(k)
	}
	var b strings.Builder
	b.WriteString("SELECT\n")
	for i, c := range cols {
		b.WriteString("  ")
		b.WriteString(quoteSQLIdent(c.Name))
		if i < len(cols)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("FROM (\n")
	b.WriteString("  SELECT\n")
	b.WriteString("    *,\n")
	b.WriteString("    row_number() OVER (\n")
	b.WriteString("      PARTITION BY " + strings.Join(quotedKeys, ", ") + "\n")
	b.WriteString("      ORDER BY " + quoteSQLIdent(ColEventTime) + " DESC NULLS LAST, " +
		quoteSQLIdent(ColSequence) + " DESC NULLS LAST\n")
	b.WriteString("    ) AS " + quoteSQLIdent(latestRank) + "\n")
	b.WriteString("  FROM " + from + "\n")
	b.WriteString(") AS \"ranked\"\n")
	b.WriteString("WHERE " + quoteSQLIdent(latestRank) + " = 1\n")
	b.WriteString("  AND " + quoteSQLIdent(ColEventName) + " <> 'REMOVE'")
	return b.String(), nil
}

// LatestViewDDL returns the CREATE OR REPLACE VIEW statement (no trailing
// semicolon) of "<db>"."<table>_latest": each item's current state, read
// from "<db>"."<table>" (see LatestSelect). The view lists the table's
// columns, so re-create it after the table gains columns. Identifiers are
// double-quoted: Athena runs CREATE VIEW on its Trino engine, which, like
// DuckDB, does not accept backticks. It fails with ErrNoKeys when the
// schema records no key attributes, with ErrStatementTooLong past
// MaxStatementBytes, and like CreateTableDDL otherwise.
func LatestViewDDL(s *Schema, o Options) (string, error) {
	if o.Database != "" && !validName(o.Database) {
		return "", &DefinitionError{Table: s.Table, Err: fmt.Errorf("%w: database %q", ErrBadName, o.Database)}
	}
	db := o.DatabaseName()
	sel, err := LatestSelect(s, QualifiedName(db, s.Table))
	if err != nil {
		return "", err
	}
	view := "CREATE OR REPLACE VIEW " + QualifiedName(db, LatestViewName(s.Table)) + " AS\n" + sel
	if len(view) > MaxStatementBytes {
		return "", tooLong(s, "CREATE VIEW", len(view))
	}
	return view, nil
}
