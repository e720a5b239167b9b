package schemas

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// StateDir is the lake folder of the materialized latest states (see
// sink/latest): <location>/_ddblake/latest/<table>/<generation>/live/
// holds a generation's items.
const StateDir = "_ddblake/latest"

// StateGenerationColumn is the partition column of a state table: the
// generation its rows belong to. Its projection is "injected": a query
// names the generation it reads, as the materialized latest view does.
// Data columns never start with '_', and no metadata column has this
// name.
const StateGenerationColumn = "_generation"

// stateSuffix names a table's state table. Sanitized lake table names
// never hold "__" (runs of '_' are collapsed), so no lake table takes
// the name.
const stateSuffix = "__state"

// StateTableName returns the name of the table of table's materialized
// latest states: <table>__state.
func StateTableName(table string) string { return table + stateSuffix }

// LatestState is a table's materialized latest state as the DDL names it:
// the generation its view reads and the last day it covers.
type LatestState struct {
	// Generation is the state's folder name, "g000007-<16 hex>".
	Generation string
	// Through is the last day (YYYY-MM-DD) the state covers.
	Through string
}

var generationText = regexp.MustCompile(`^g[0-9]{6}-[0-9a-f]{16}$`)

// Validate reports whether the state can go into SQL: a generation of
// the form sink/latest writes and a YYYY-MM-DD day. The error wraps
// ErrBadOption.
func (st LatestState) Validate() error {
	if !generationText.MatchString(st.Generation) {
		return fmt.Errorf("%w: latest state generation %q", ErrBadOption, st.Generation)
	}
	if _, err := time.Parse(time.DateOnly, st.Through); err != nil || len(st.Through) != 10 {
		return fmt.Errorf("%w: latest state through %q: want YYYY-MM-DD", ErrBadOption, st.Through)
	}
	return nil
}

// StateLocation returns the S3 folder of table's states, the state
// table's LOCATION: <location>/_ddblake/latest/<table>/.
func StateLocation(location, table string) (string, error) {
	bucket, prefix, err := SplitS3Location(location)
	if err != nil {
		return "", err
	}
	return "s3://" + joinKey(bucket, prefix, StateDir, table) + "/", nil
}

// stateColumns are the columns of a state table: the table's columns,
// then its partition columns as plain columns (each row keeps the
// partition it came from).
func stateColumns(s *Schema) []Column {
	return append(TableColumns(s), PartitionColumns(s)...)
}

// stateProperties are the TBLPROPERTIES of a state table: the generation
// injected by the query, each generation's live items in
// <generation>/live/.
func stateProperties(o Options, loc string) []property {
	return []property{
		{"projection.enabled", "true"},
		{"projection." + StateGenerationColumn + ".type", "injected"},
		{"storage.location.template", loc + "${" + StateGenerationColumn + "}/live/"},
		{"parquet.compression", o.compression()},
		{"classification", "parquet"},
	}
}

// StateTableDDL returns the Athena CREATE EXTERNAL TABLE IF NOT EXISTS
// statement (no trailing semicolon) of table's state table: the table's
// columns and its partition columns, partitioned by the generation (see
// StateGenerationColumn), Parquet files at
// <location>/_ddblake/latest/<table>/<generation>/live/. Generations are
// never written once a view names them, so the table reads the files
// directly. It fails like CreateTableDDL.
func StateTableDDL(s *Schema, o Options) (string, error) {
	if _, err := prepare(s, o); err != nil {
		return "", err
	}
	loc, err := StateLocation(o.Location, s.Table)
	if err != nil {
		return "", &DefinitionError{Table: s.Table, Err: err}
	}
	ddl := stateTable(s, o, loc, true)
	if len(ddl) > MaxStatementBytes {
		ddl = stateTable(s, o, loc, false)
	}
	if len(ddl) > MaxStatementBytes {
		return "", tooLong(s, "CREATE TABLE", len(ddl))
	}
	return ddl, nil
}

// stateTable writes the state table's CREATE TABLE statement, with or
// without the data columns' comments.
func stateTable(s *Schema, o Options, loc string, comments bool) string {
	var b strings.Builder
	b.WriteString("CREATE EXTERNAL TABLE IF NOT EXISTS ")
	b.WriteString(qualifiedHive(o.DatabaseName(), StateTableName(s.Table)))
	b.WriteString(" (\n")
	writeColumnDefs(&b, stateColumns(s), comments)
	b.WriteString(")\nPARTITIONED BY (\n")
	b.WriteString("  " + quoteIdent(StateGenerationColumn) + " string COMMENT " +
		hiveString(StateGenerationComment(s.Table)) + "\n")
	b.WriteString(")\n")
	b.WriteString("ROW FORMAT SERDE " + hiveString(ParquetSerDe) + "\n")
	b.WriteString("STORED AS INPUTFORMAT " + hiveString(ParquetInputFormat) + "\n")
	b.WriteString("OUTPUTFORMAT " + hiveString(ParquetOutputFormat) + "\n")
	b.WriteString("LOCATION " + hiveString(loc) + "\n")
	b.WriteString("TBLPROPERTIES (\n")
	props := stateProperties(o, loc)
	for i, p := range props {
		b.WriteString("  " + hiveString(p.key) + "=" + hiveString(p.value))
		if i < len(props)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString(")")
	return b.String()
}

// StateAddColumnsDDL is AddColumnsDDL for the state table of newer.
func StateAddColumnsDDL(older, newer *Schema, o Options) (string, error) {
	return addColumnsDDL(older, newer, o, StateTableName(newer.Table))
}

// LatestHistory returns the derived table a latest view ranks when its
// rows come from several relations (a materialized state and the
// partitions after it): "(SELECT <columns> FROM <from 1> UNION ALL ...)
// AS "history"", the columns being the table's then its partition
// columns, as LatestSelect needs them. Each from is put verbatim after
// FROM (a relation, optionally followed by WHERE ...), and must have
// every one of those columns.
func LatestHistory(s *Schema, froms ...string) string {
	cols := append(TableColumns(s), PartitionColumns(s)...)
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = quoteSQLIdent(c.Name)
	}
	list := strings.Join(names, ", ")
	var b strings.Builder
	b.WriteString("(\n")
	for i, f := range froms {
		if i > 0 {
			b.WriteString("\n    UNION ALL\n")
		}
		b.WriteString("    SELECT " + list + "\n    FROM " + f)
	}
	b.WriteString("\n  ) AS \"history\"")
	return b.String()
}

// LatestStateViewDDL returns the CREATE OR REPLACE VIEW statement (no
// trailing semicolon) of "<db>"."<table>_latest" over a materialized
// state: each item's newest change among the state's rows of generation
// st.Generation (read from the state table) and the table's rows of the
// days after st.Through, ranked and filtered as LatestSelect does. The
// state holds each item's newest change up to st.Through, and every
// change after it is newer, so the view gives what the view over the
// whole table gives, reading the state and the days after it only.
// Re-create it after each new state. It fails like LatestViewDDL, and
// with ErrBadOption for a state that does not validate.
func LatestStateViewDDL(s *Schema, o Options, st LatestState) (string, error) {
	if err := st.Validate(); err != nil {
		return "", &DefinitionError{Table: s.Table, Err: err}
	}
	if o.Database != "" && !validName(o.Database) {
		return "", &DefinitionError{Table: s.Table, Err: fmt.Errorf("%w: database %q", ErrBadName, o.Database)}
	}
	db := o.DatabaseName()
	state := QualifiedName(db, StateTableName(s.Table)) +
		" WHERE " + quoteSQLIdent(StateGenerationColumn) + " = '" + st.Generation + "'"
	after := QualifiedName(db, s.Table) + " WHERE " + quoteSQLIdent(PartitionDay) + " > '" + st.Through + "'"
	sel, err := LatestSelect(s, LatestHistory(s, state, after))
	if err != nil {
		return "", err
	}
	view := "CREATE OR REPLACE VIEW " + QualifiedName(db, LatestViewName(s.Table)) + " AS\n" + sel
	if len(view) > MaxStatementBytes {
		return "", tooLong(s, "CREATE VIEW", len(view))
	}
	return view, nil
}
