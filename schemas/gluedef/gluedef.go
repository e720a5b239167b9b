package gluedef

import (
	"github.com/ddblake/ddblake/schemas"
)

// LakeTable returns the Glue table definition of s, equal to what
// schemas.CreateTableDDL creates: an EXTERNAL_TABLE with the metadata and
// data columns (Athena types, comments holding the DynamoDB paths), dt
// (and hr) partition keys, Parquet SerDe read through the partitions'
// manifests (SymlinkTextInputFormat) at
// <location>/<table>/_symlink_format_manifest/, and Parameters holding
// the partition projection, storage template, parquet.compression and
// classification=parquet. The database is not part of a TableInput: pass
// o.DatabaseName() to CreateTable (aws glue create-table
// --database-name). It fails like schemas.CreateTableDDL.
func LakeTable(s *schemas.Schema, o schemas.Options) (*TableInput, error) {
	loc, params, err := schemas.TableDefinition(s, o)
	if err != nil {
		return nil, err
	}
	return &TableInput{
		Name:          s.Table,
		Description:   "DynamoDB change log of table " + s.Table + ", one row per change (ddblake)",
		Parameters:    params,
		PartitionKeys: Columns(schemas.PartitionColumns(s)),
		StorageDescriptor: &StorageDescriptor{
			Columns:      Columns(schemas.TableColumns(s)),
			InputFormat:  schemas.SymlinkInputFormat,
			Location:     loc,
			OutputFormat: schemas.SymlinkOutputFormat,
			SerdeInfo:    parquetSerDe(),
		},
		TableType: ExternalTable,
	}, nil
}

// StateTable returns the Glue definition of s's state table, equal to
// what schemas.StateTableDDL creates (pass o.DatabaseName() to
// CreateTable). It fails like schemas.StateTableDDL.
func StateTable(s *schemas.Schema, o schemas.Options) (*TableInput, error) {
	loc, params, err := schemas.StateTableDefinition(s, o)
	if err != nil {
		return nil, err
	}
	return &TableInput{
		Name:        schemas.StateTableName(s.Table),
		Description: "latest state of table " + s.Table + ", one row per item, by generation (ddblake latest)",
		Parameters:  params,
		PartitionKeys: []Column{{
			Name:    schemas.StateGenerationColumn,
			Comment: schemas.StateGenerationComment(s.Table),
			Type:    "string",
		}},
		StorageDescriptor: &StorageDescriptor{
			Columns:      Columns(schemas.StateColumns(s)),
			InputFormat:  schemas.ParquetInputFormat,
			Location:     loc,
			OutputFormat: schemas.ParquetOutputFormat,
			SerdeInfo:    parquetSerDe(),
		},
		TableType: ExternalTable,
	}, nil
}

// ExternalTable is the TableType of the lake's tables.
const ExternalTable = "EXTERNAL_TABLE"

func parquetSerDe() *SerDeInfo {
	return &SerDeInfo{
		Parameters:           map[string]string{"serialization.format": "1"},
		SerializationLibrary: schemas.ParquetSerDe,
	}
}

// Columns returns the Glue columns of cols: Athena types, and the
// comments schemas.ColumnComment gives.
func Columns(cols []schemas.Column) []Column {
	out := make([]Column, len(cols))
	for i, c := range cols {
		out[i] = Column{Name: c.Name, Comment: schemas.ColumnComment(c), Type: c.Type.AthenaName()}
	}
	return out
}
