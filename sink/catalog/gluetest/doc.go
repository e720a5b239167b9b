// Package gluetest is a fake AWS Glue Data Catalog for tests: an
// httptest server speaking Glue's JSON 1.1 protocol for CreateTable,
// GetTable, UpdateTable (with VersionId checks) and GetTables, driven
// through the real SDK client, with scripted throttling and concurrent
// changes.
package gluetest
