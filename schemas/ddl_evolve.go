package schemas

import (
	"fmt"
	"strings"
)

// NewColumns returns the data columns of newer that older lacks, in
// newer's order: what the table gained. Columns are matched by name. It
// fails with a *DefinitionError wrapping ErrTypeChanged when a column has
// another type in newer, ErrColumnRemoved when newer lacks a column of
// older, and ErrPartitioningChanged when one is hourly and the other not.
func NewColumns(older, newer *Schema) ([]Column, error) {
	if older.Table != newer.Table {
		return nil, &DefinitionError{Table: newer.Table, Err: fmt.Errorf(
			"%w: comparing with table %s", ErrBadSchema, older.Table)}
	}
	if older.Hourly != newer.Hourly {
		return nil, &DefinitionError{Table: newer.Table, Err: fmt.Errorf(
			"%w: hourly %t before, %t now; create the table again", ErrPartitioningChanged, older.Hourly, newer.Hourly)}
	}
	for _, c := range older.Columns {
		n, ok := newer.Column(c.Name)
		if !ok {
			return nil, &DefinitionError{Table: newer.Table, Column: c.Name, Err: fmt.Errorf(
				"%w: path %q", ErrColumnRemoved, c.Path)}
		}
		if !n.Type.Equal(c.Type) {
			return nil, &DefinitionError{Table: newer.Table, Column: c.Name, Err: fmt.Errorf(
				"%w: %s before, %s now", ErrTypeChanged, c.Type.AthenaName(), n.Type.AthenaName())}
		}
	}
	var added []Column
	for _, c := range newer.Columns {
		if _, ok := older.Column(c.Name); !ok {
			added = append(added, c)
		}
	}
	return added, nil
}

// AddColumnsDDL returns the Athena ALTER TABLE ... ADD COLUMNS statement
// (no trailing semicolon) that brings the table of older to newer, or ""
// when newer adds no column. Columns are only ever appended; it fails like
// NewColumns when the change is not an append, and like ValidateForAthena
// when newer is not valid. After it runs, re-create the latest view
// (LatestViewDDL) so the view shows the new columns.
func AddColumnsDDL(older, newer *Schema, o Options) (string, error) {
	return addColumnsDDL(older, newer, o, newer.Table)
}

// addColumnsDDL is AddColumnsDDL of the table named name.
func addColumnsDDL(older, newer *Schema, o Options, name string) (string, error) {
	if o.Database != "" && !validName(o.Database) {
		return "", &DefinitionError{Table: newer.Table, Err: fmt.Errorf("%w: database %q", ErrBadName, o.Database)}
	}
	if err := ValidateForAthena(newer); err != nil {
		return "", err
	}
	added, err := NewColumns(older, newer)
	if err != nil || len(added) == 0 {
		return "", err
	}
	alter := func(comments bool) string {
		var b strings.Builder
		b.WriteString("ALTER TABLE ")
		b.WriteString(qualifiedHive(o.DatabaseName(), name))
		b.WriteString(" ADD COLUMNS (\n")
		writeColumnDefs(&b, added, comments)
		b.WriteString(")")
		return b.String()
	}
	ddl := alter(true)
	if len(ddl) > MaxStatementBytes {
		ddl = alter(false)
	}
	if len(ddl) > MaxStatementBytes {
		return "", tooLong(newer, "ALTER TABLE", len(ddl))
	}
	return ddl, nil
}
