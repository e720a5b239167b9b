package schemas

// The parts of a table's definition that the catalog's own shapes are
// built from: schemas/gluedef (Glue tables, for the catalog sync and the
// CLI) and schemas/firehosedef (delivery streams, CLI only) build theirs
// from these, so that this package carries no AWS SDK type.

// TableDefinition returns what a lake table's catalog definition holds
// besides its columns, the same as CreateTableDDL says: the location (the
// folder of the partitions' manifests) and the table properties (Glue
// Parameters). It fails like CreateTableDDL.
func TableDefinition(s *Schema, o Options) (location string, params map[string]string, err error) {
	loc, err := prepare(s, o)
	if err != nil {
		return "", nil, err
	}
	return loc, propertyMap(tableProperties(s, o, loc)), nil
}

// StateTableDefinition is TableDefinition for table's state table (see
// StateTableDDL): <location>/_ddblake/latest/<table>/ and the state
// table's properties. It fails like StateTableDDL.
func StateTableDefinition(s *Schema, o Options) (location string, params map[string]string, err error) {
	if _, err := prepare(s, o); err != nil {
		return "", nil, err
	}
	loc, err := StateLocation(o.Location, s.Table)
	if err != nil {
		return "", nil, &DefinitionError{Table: s.Table, Err: err}
	}
	return loc, propertyMap(stateProperties(o, loc)), nil
}

// StateColumns returns the columns of table's state table: the table's
// columns, then its partition columns as plain columns (each row keeps
// the partition it came from). The state table's own partition column is
// StateGenerationColumn.
func StateColumns(s *Schema) []Column { return stateColumns(s) }

// StateGenerationComment is the comment of a state table's partition
// column (StateGenerationColumn).
func StateGenerationComment(table string) string {
	return "generation of the latest state, as _ddblake/latest/" + table + ".json names it"
}

// ValidateDefinition reports whether the options and the schema make a
// table Athena and Glue accept; it fails like CreateTableDDL.
func ValidateDefinition(s *Schema, o Options) error {
	_, err := prepare(s, o)
	return err
}

func propertyMap(props []property) map[string]string {
	m := make(map[string]string, len(props))
	for _, p := range props {
		m[p.key] = p.value
	}
	return m
}
