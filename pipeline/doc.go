// Package pipeline turns DynamoDB change data into change records and
// runs them through the batch pipeline (flatten, schema registry, sink).
//
// The decoders read every input format of docs/FORMATS.md into
// ChangeRecord values, streaming and in order: Lambda DynamoDB stream
// events and Kinesis events (DecodeEvent, on the raw payload), stream
// records one per line, plain or gzip (Decode), and full or incremental
// DynamoDB exports, whose manifests are followed and whose data files
// are checked against their MD5 and item counts (DecodeInput). Detect
// tells the formats apart by content; Resolver turns source arguments
// (files, directories, export folders, "-", s3:// URIs) into Inputs read
// through an ObjectReader.
//
// Bad data never stops good data: a record that cannot be read reaches
// the callback as a *RecordError holding its raw bytes, to be set aside,
// and the rest go on; an input that cannot be read further ends with an
// *InputError naming the file and the line or record where it broke,
// after every record before the break.
//
// A Processor takes a Batch of records through the rest of the way: it
// routes each record to the origin of its lake table (Config.Route),
// flattens the images, gives each origin its lake table name (the first
// to ask keeps a name, later ones get a collision suffix), admits the
// accounts and regions of the records (another source's records are set
// aside unless the configuration joins them), commits the batch's new
// columns to the schema registry (the stored schema wins every merge, so
// concurrent writers agree; names and sources are conditional writes), builds
// the typed rows and hands them to a Sink (LakeSink for Parquet in the
// lake, FirehoseSink for Firehose), and sets bad records aside in the
// Quarantine; Result.FirstFailed tells a Lambda where to resume. Replay
// cuts inputs into bounded batches, decodes and writes them in parallel,
// names their objects from the input's identity so that a rerun
// overwrites them, and commits new columns in input order so that a
// fresh rebuild gives the same lake.
//
// Example:
//
//	dec, _ := pipeline.NewDecoder(pipeline.DecodeOptions{})
//	err := dec.DecodeEvent(payload, "event", func(rec *pipeline.ChangeRecord, rerr *pipeline.RecordError) error {
//		if rerr != nil {
//			return quarantine(rerr.Table, rerr.Raw, rerr) // set aside; the batch goes on
//		}
//		return batch.Add(rec)
//	})
package pipeline
