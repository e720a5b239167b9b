// Package pipeline takes change records the rest of the way into the
// lake: it routes each record to its lake table, flattens its images,
// commits new columns to the schema registry and hands the typed rows to
// a sink.Destination, setting aside what cannot become a row.
//
// One record's path: pipeline/decode reads it from its input into a
// decode.ChangeRecord; Config.Route picks its lake table and the image
// its row is made from; a flatten.Flattener turns the image into a flat
// row; the Processor commits the row's new columns to the registry
// (Schemas) and hands the rows to the Destination, which encodes and
// stores them (sink/direct: Parquet files in the lake; sink/firehose:
// JSON records to Firehose).
//
// Exported names:
//
//   - Config, TableConfig, SourceRule, ByteSize (ParseConfig,
//     ParseByteSize, ParseMaskKeySource): the YAML configuration and its
//     defaults (DefaultPartition...); Config.Route and Routed: where a
//     record goes.
//   - Processor, Batch, Result, Counts, OverCap: one batch through the
//     pipeline. Result.FirstFailed tells a Lambda where to resume.
//   - Schemas and RegistrySchemas (NewRegistrySchemas): the lake's schema
//     registry with an in-memory copy.
//   - SetAside, SetAsider, InputSetAsider and LakeErrors (NewLakeErrors):
//     the quarantine of records and inputs, in the lake's _errors/.
//   - Redactor (NewRedactor), QuarantineRedacted..., RedactedMasked...:
//     what the configuration hides, hidden in the quarantine too.
//   - Replay, Progress, Summary, DefaultChunkBytes...: replaying inputs
//     in bounded batches, in parallel.
//   - ErrOtherSource, ErrNoLakeName, ErrNothingRead: its sentinel errors.
//
// The Processor gives each origin its lake table name (the first to ask
// keeps a name, later ones get a collision suffix), admits the accounts
// and regions of the records (another source's records are set aside
// unless the configuration joins them), and commits the batch's new
// columns to the schema registry (the stored schema wins every merge, so
// concurrent writers agree; names and sources are conditional writes).
// Replay cuts inputs into bounded batches, decodes and writes them in
// parallel, names their objects from the input's identity so that a
// rerun overwrites them, and commits new columns in input order so that
// a fresh rebuild gives the same lake.
//
// Example:
//
//	p := &pipeline.Processor{
//		Config:      cfg,
//		Schemas:     pipeline.NewRegistrySchemas(store),
//		Destination: direct.New(store),
//		Quarantine:  pipeline.NewLakeErrors(store),
//	}
//	res, err := p.Process(ctx, &pipeline.Batch{ID: batchID, Records: recs, Errors: bad})
//	// res.FirstFailed: the first record to redeliver, or -1
package pipeline
