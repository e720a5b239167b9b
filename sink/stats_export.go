package sink

import "bytes"

// TruncateStats cuts the min and max values of the column chunk
// statistics in the footer of the Parquet file in buf to MaxStatBytes, as
// the Encoder does for its own files, rewriting the footer in place when
// any is longer (the data and the indexes before it do not move). Other
// writers of lake files (compaction, the materialized latest state) call
// it so their files keep the same bounded statistics.
func TruncateStats(buf *bytes.Buffer) error { return truncateStats(buf) }
