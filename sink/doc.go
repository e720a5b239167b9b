// Package sink writes the lake: Parquet files of flat rows, the schema
// registry, and the quarantine, in a Store (a local directory or an S3
// prefix; implementations in localstore and s3store, all passing the
// storetest suite).
//
// The parts, each usable alone:
//
//   - Encoder turns rows typed by a schemas.Schema into Parquet files:
//     zstd (or snappy, gzip, none), dictionary-encoded strings, decimals
//     as FIXED_LEN_BYTE_ARRAY without min/max statistics, timestamps as
//     INT64 TIMESTAMP(MILLIS, UTC), arrays as 3-level LISTs, row groups and
//     files bounded in bytes. A file holds the metadata columns plus only
//     the data columns its rows use, and no time or random value, so the
//     same rows always give the same bytes.
//   - DataKey, QuarantineKey, SchemaKey, ReplayBatchID, LambdaBatchID and
//     FileName compute object keys from data alone (no I/O); every part is
//     validated, so nothing escapes the store's root.
//   - Registry loads and commits table schemas with optimistic
//     concurrency (Store.PutIf), so concurrent writers never lose a column.
//   - Quarantine writes set-aside records as JSON lines.
//   - TableWriter ties it together for one table and batch.
//   - Destination, Table and Delivery are what the pipeline hands a
//     batch's rows to and hears back; its implementations are
//     sink/direct (Parquet in the lake) and sink/firehose. A Sequencer
//     (sink/direct's Assembled) is a Destination that joins the files of
//     many batches, in the order of their Place.
//   - Spool and SpoolStore let a writer grow a large object in a local
//     file and put it without reading it into memory.
//
// A batch, as the replay runner or the Lambda does it:
//
//	reg := sink.NewRegistry(store)
//	schema, err := reg.Load(ctx, table)            // once per table, cached
//	// ... add the batch's new columns to schema (flatten.Batch.Propose) ...
//	schema, err = reg.Commit(ctx, schema)          // use the merged schema
//	rows, _ := batch.Rows(nil, schema)             // rows typed by it
//	tw, err := sink.NewTableWriter(store, sink.ParquetOptions{})
//	files, err := tw.Write(ctx, schema, sink.ReplayBatchID(src, size, etag, chunk), rows)
//	_, err = sink.NewQuarantine(store).Write(ctx, batchID, setAside)
package sink
