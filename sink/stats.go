package sink

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// MaxStatBytes bounds each min and max value the Parquet files keep in
// their statistics: in the column chunk metadata of the footer and in the
// column index. A longer value is cut: the min to a prefix (at a character
// boundary for text), the max to the shortest prefix-derived value above
// it (the last character incremented), or left out when none is shorter.
// Bounds so cut still bound every value, so readers prune correctly; a
// 300 KB string costs its page, not three more copies in statistics.
const MaxStatBytes = 64

// parquetMagic ends (and starts) every Parquet file.
const parquetMagic = "PAR1"

// truncateStats cuts the column chunk min and max values in the footer of
// the Parquet file in buf to MaxStatBytes, rewriting the footer in place
// when any is longer. The data and the column and offset indexes before
// the footer do not move, so the offsets the footer holds stay right.
func truncateStats(buf *bytes.Buffer) error {
	file := buf.Bytes()
	n := len(file)
	if n < 12 || string(file[n-4:]) != parquetMagic {
		return fmt.Errorf("truncate statistics: not a Parquet file")
	}
	flen := int(binary.LittleEndian.Uint32(file[n-8 : n-4]))
	start := n - 8 - flen
	if flen <= 0 || start < 4 {
		return fmt.Errorf("truncate statistics: bad footer length %d", flen)
	}
	var proto thrift.CompactProtocol
	var md format.FileMetaData
	if err := thrift.Unmarshal(&proto, file[start:n-8], &md); err != nil {
		return fmt.Errorf("truncate statistics: read footer: %w", err)
	}
	changed := false
	for i := range md.RowGroups {
		for j := range md.RowGroups[i].Columns {
			st := &md.RowGroups[i].Columns[j].MetaData.Statistics
			if len(st.MinValue) > MaxStatBytes {
				st.MinValue, changed = truncateMin(st.MinValue), true
			}
			if len(st.MaxValue) > MaxStatBytes {
				st.MaxValue, changed = truncateMax(st.MaxValue), true
			}
			if len(st.Min) > MaxStatBytes || len(st.Max) > MaxStatBytes {
				st.Min, st.Max, changed = nil, nil, true // signed order: no cut is safe
			}
		}
	}
	if !changed {
		return nil
	}
	footer, err := thrift.Marshal(&proto, &md)
	if err != nil {
		return fmt.Errorf("truncate statistics: write footer: %w", err)
	}
	buf.Truncate(start)
	buf.Write(footer)
	var tail [8]byte
	binary.LittleEndian.PutUint32(tail[:4], uint32(len(footer)))
	copy(tail[4:], parquetMagic)
	buf.Write(tail[:])
	return nil
}

// truncateMin returns a prefix of v of at most MaxStatBytes: no greater
// than v. Valid UTF-8 is cut at a character boundary, so it stays text.
func truncateMin(v []byte) []byte {
	cut := MaxStatBytes
	if utf8.Valid(v) {
		for cut > 0 && !utf8.RuneStart(v[cut]) {
			cut--
		}
	}
	return bytes.Clone(v[:cut])
}

// truncateMax returns a value of at most MaxStatBytes no less than v and
// than any value starting like it, or nil when there is none: the prefix
// with its last character (valid UTF-8, staying valid) or byte
// incremented, dropping those that cannot be.
func truncateMax(v []byte) []byte {
	p := truncateMin(v)
	if utf8.Valid(v) {
		for len(p) > 0 {
			r, size := utf8.DecodeLastRune(p)
			p = p[:len(p)-size]
			if r < utf8.MaxRune {
				r++
				if r == 0xD800 {
					r = 0xE000 // past the surrogates
				}
				return utf8.AppendRune(p, r)
			}
		}
		return nil
	}
	for len(p) > 0 {
		last := len(p) - 1
		if p[last] < 0xff {
			p[last]++
			return p
		}
		p = p[:last]
	}
	return nil
}
