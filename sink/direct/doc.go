// Package direct is the destination that writes a batch's rows straight
// into the lake, rather than through Firehose: Parquet files put in a
// sink.Store, then listed in their partitions' manifests (sink/manifest),
// which is what makes them part of their table.
//
// Exported names:
//
//   - Destination, the sink.Destination; New lists each batch's files
//     before Write returns (the Lambda), NewDeferred lists them at Flush
//     (the backfill).
//   - Assembled, the replay's sink.Sequencer: it joins the files of an
//     input's batches, encoded in parallel, into files of the target size
//     per partition, in ticket order (sink/concat), grows them in spools
//     and lists them at Flush; a file of one batch is the file Destination
//     writes for it.
//
// A row the lake cannot hold (an event time no partition can name, a
// cell the encoder refuses) is set aside with sink.ErrUnwritable and the
// other rows are written; rows in files that could not be put or listed
// are reported as failed, and a retry writes the same objects.
//
// Example:
//
//	dest := direct.New(store)
//	d, err := dest.Write(ctx, batchID, &sink.Table{Name: "orders", Schema: schema}, rows)
//	// d.Failed: rows to redeliver; d.SetAside: rows to set aside, with the reason
package direct
