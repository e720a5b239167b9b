// Package gluetest is a fake AWS Glue Data Catalog for tests: an
// httptest server speaking Glue's JSON 1.1 protocol for CreateTable,
// GetTable, UpdateTable (with VersionId checks) and GetTables, driven
// through the client the catalog sync uses (sink/catalog/glueapi, whose
// requests glueapi's tests check against the AWS SDK's), with scripted
// throttling and concurrent changes.
package gluetest
