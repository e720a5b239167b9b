// Package catalog keeps the Glue Data Catalog in step with the schema
// registry: for each lake table it creates or updates the Glue table that
// Athena (and Firehose's record format conversion) read, the table of its
// materialized latest state when there is one, and the <table>_latest
// view, stored as a Glue view in the form Athena itself stores views.
//
// Updates are append-only and optimistic: a column the registry gained is
// appended to the stored table with UpdateTable carrying the VersionId
// that GetTable returned, so a writer that changed the table meanwhile
// makes the update fail (ConcurrentModificationException) and Sync reads
// the table again and merges once more. A column's type is never changed
// (Athena reads old files with the table's type), columns the table holds
// beyond the registry's are kept, and when nothing differs Sync writes
// nothing. Each column Sync adds carries, in its Parameters, the time it
// was added (CatalogedAtParam): the Firehose sink reads it to know when
// Firehose, which caches a table's schema, has surely seen the column.
//
// Example:
//
//	client, err := glueapi.New(cfg, glueapi.Options{}) // cfg: an aws.Config
//	c, err := catalog.New(client, catalog.Config{Database: "chat", Location: "s3://lake/ddb"})
//	res, err := c.Sync(ctx, schema, nil) // nil: no materialized latest state
package catalog
