package schemas

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
)

// GlueTableInput returns the Glue table definition of the table, equal to
// what CreateTableDDL creates: an EXTERNAL_TABLE with the metadata and
// data columns (Athena types, comments holding the DynamoDB paths), dt
// (and hr) partition keys, Parquet SerDe read through the partitions'
// manifests (SymlinkTextInputFormat) at
// <location>/<table>/_symlink_format_manifest/, and Parameters holding the partition projection,
// storage template, parquet.compression and classification=parquet. The
// database is not part of a TableInput: pass o.DatabaseName() to
// CreateTable (aws glue create-table --database-name). It fails like
// CreateTableDDL.
func GlueTableInput(s *Schema, o Options) (*gluetypes.TableInput, error) {
	loc, err := prepare(s, o)
	if err != nil {
		return nil, err
	}
	params := map[string]string{}
	for _, p := range tableProperties(s, o, loc) {
		params[p.key] = p.value
	}
	return &gluetypes.TableInput{
		Name:          aws.String(s.Table),
		Description:   aws.String("DynamoDB change log of table " + s.Table + ", one row per change (ddblake)"),
		TableType:     aws.String("EXTERNAL_TABLE"),
		Parameters:    params,
		PartitionKeys: glueColumns(PartitionColumns(s)),
		StorageDescriptor: &gluetypes.StorageDescriptor{
			Columns:      glueColumns(TableColumns(s)),
			Location:     aws.String(loc),
			InputFormat:  aws.String(SymlinkInputFormat),
			OutputFormat: aws.String(SymlinkOutputFormat),
			SerdeInfo: &gluetypes.SerDeInfo{
				SerializationLibrary: aws.String(ParquetSerDe),
				Parameters:           map[string]string{"serialization.format": "1"},
			},
		},
	}, nil
}

func glueColumns(cols []Column) []gluetypes.Column {
	out := make([]gluetypes.Column, len(cols))
	for i, c := range cols {
		out[i] = gluetypes.Column{
			Name:    aws.String(c.Name),
			Type:    aws.String(c.Type.AthenaName()),
			Comment: aws.String(ColumnComment(c)),
		}
	}
	return out
}

// GlueTableInputJSON renders GlueTableInput as the JSON that the Glue API
// and `aws glue create-table --database-name DB --table-input file://F`
// take (see MarshalAPIJSON). It fails like CreateTableDDL.
func GlueTableInputJSON(s *Schema, o Options) ([]byte, error) {
	in, err := GlueTableInput(s, o)
	if err != nil {
		return nil, err
	}
	return MarshalAPIJSON(in)
}
