// Package gluedef holds the Glue Data Catalog definitions of the lake's
// tables in the shapes of Glue's API, with no AWS SDK: TableInput, Table,
// StorageDescriptor, SerDeInfo and Column carry the JSON field names Glue
// takes and answers with, so they are at once what the catalog sync sends
// (sink/catalog, through sink/catalog/glueapi), what `ddblake ddl --format
// glue` prints and what the CloudFormation template (schemas/cfn) is
// made from.
//
// It is a package of its own, small and SDK-free, because the Lambda
// function links it: the SDK's Glue types (and the serialization schemas
// their package registers at start) weigh about 1.6 MB of the bootstrap
// and 2-4 ms of every cold start.
//
//	in, err := gluedef.LakeTable(s, schemas.Options{Database: "lake", Location: "s3://bucket/lake"})
//	doc, err := gluedef.JSON(in) // aws glue create-table --table-input file://...
package gluedef
