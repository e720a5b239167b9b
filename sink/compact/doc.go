// Package compact rewrites the small files of a lake's partitions into
// files of the target size, without ever showing a query a row twice or
// missing one.
//
// A partition's files are what its manifest lists (see sink/manifest).
// Compaction works on one partition at a time, one group of small files
// at a time:
//
//  1. claim: add to the partition's compaction record that the output
//     (named from the group's files, so a rerun names it alike) replaces
//     those files. Writers never list a claimed file again.
//  2. write the output: the group's rows, file after file, in
//     <table>/<partition>/compacted/.
//  3. switch: replace the group's files by the output in the manifest,
//     with one conditional write; a writer that listed a new file
//     meanwhile makes it fail, and the switch is tried again over the
//     manifest as it now is, so no file written during the run is lost.
//  4. delete the replaced files once the manifest stopped listing them
//     Grace ago (queries that read the manifest before the switch may
//     still read them).
//
// A run killed at any point leaves the manifest listing either the group's
// files or the output; the next run finishes every claim it finds pending
// (writing the output again if needed: the same rows give the same bytes)
// and goes on. A partition is compacted only once closed: its end (the
// end of its day, or hour) Settle ago, after which no write is expected;
// Force compacts open partitions too. Every run also lists the files the
// partitions' folders hold and no manifest lists yet (files delivered by
// Firehose, or by a writer killed between its write and its listing), and
// writes again manifests that name another lake root.
//
//	sum, err := compact.Run(ctx, store, compact.Options{
//		Parquet: func(table string) sink.ParquetOptions { return sink.ParquetOptions{FileBytes: 128 << 20} },
//	})
//	if err != nil {
//		return err
//	}
//	fmt.Println(sum.FilesBefore, "files →", sum.FilesAfter)
package compact
