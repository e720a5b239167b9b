// Package manifest keeps the list of data files of each table partition:
// the symlink manifest that Athena reads (SymlinkTextInputFormat) and
// that every other lake reader follows, so that a query sees a
// partition's files as one set that changes only by whole, atomic
// replacements of one object.
//
// A partition's manifest is one text object,
// <table>/_symlink_format_manifest/dt=YYYY-MM-DD[/hr=HH]/manifest,
// holding one data file per line, sorted: the file's full S3 URI in an S3
// lake (what Athena needs), its key relative to the lake root in a local
// one. Writers put their Parquet files first and then add them to the
// manifest with a conditional write (Store.PutIf), retried on a lost
// race, so concurrent writers never drop each other's files; compaction
// replaces small files by bigger ones the same way, in one write, so a
// reader counts each row once whatever moment it reads the manifest.
//
// Compaction claims the files it replaces in the partition's compaction
// record (_ddblake/compaction/<table>/dt=...json) before it writes
// anything. A writer never adds back a file that a claim names: a rerun
// that writes a replaced file again (same name, same rows) leaves the
// manifest as it is, so its rows are not counted twice.
//
// A Lister adds what a sink wrote: at once (the Lambda: rows are visible
// when the invocation returns) or at Flush (replay: one write per
// partition per run, whatever the number of batches).
//
//	l := manifest.NewLister(store)
//	files, err := tableWriter.Write(ctx, schema, batchID, rows)
//	if err == nil {
//		err = l.Add(ctx, files)
//	}
package manifest
