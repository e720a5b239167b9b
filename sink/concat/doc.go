// Package concat joins Parquet files of one table into one Parquet file
// without decoding their pages: the replay writes each batch's rows of a
// partition as a small file (a piece), encoded in parallel, and joins the
// pieces of consecutive batches into files of the target size.
//
// A piece's row groups are copied byte for byte, each becoming a row
// group of the joined file; only offsets change. The joined file's schema
// is the union of the pieces' top-level fields, sorted by name as every
// lake file's is; a row group whose piece lacks a field of the union gets
// a column chunk of nulls for it (one uncompressed page of definition
// levels), so every row reads the field as null, as it did in its piece.
// Column and offset indexes are copied (page offsets shifted) and laid out
// as the Parquet writers lay them out: all column indexes, then all offset
// indexes, then the footer, which some readers (parquet-go) rely on.
// Statistics are copied per column chunk, so they keep the bounds the
// encoder gave them.
//
// A Writer keeps only a few numbers per piece in memory: the piece's
// pages go to the output as they come, and its indexes and footer to a
// sidecar file until Close. A file of one piece is that piece's bytes,
// unchanged.
//
//	w := concat.NewWriter(out, sidecar)
//	for _, body := range pieces {
//		p, err := concat.Parse(body)
//		// ...
//		if err := w.Check(p); err != nil { /* start another file */ }
//		err = w.Append(p)
//	}
//	size, err := w.Close()
package concat
