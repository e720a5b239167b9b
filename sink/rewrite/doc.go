// Package rewrite copies rows of Parquet files into a new Parquet file,
// whatever their schemas: compaction merges a partition's small files
// with it, and the materialized latest state copies each item's newest
// row with it.
//
// It knows nothing of ddblake's column types. A file's top-level fields
// are taken as the file declares them (scalars, LISTs, MAPs, groups);
// fields of one name must have the same shape in every file merged
// (ErrConflict otherwise). The new file holds the fields that some copied
// row has a value for, plus the fields named in Options.Keep, sorted by
// name as every lake file is, so the same rows give the same bytes. Rows
// keep their values: a row that lacks a field of the merged schema reads
// it as null, as it did before.
//
// Encodings and statistics follow the lake's writer, not the inputs':
// strings dictionary-encoded, binary plain, one codec for every column,
// statistics cut to sink.MaxStatBytes, none on decimals, no column index
// bounds on binary.
//
//	a, _ := rewrite.Open("a.parquet", bodyA)
//	b, _ := rewrite.Open("b.parquet", bodyB)
//	out, err := rewrite.Merge([]*rewrite.File{a, b}, rewrite.Options{})
package rewrite
