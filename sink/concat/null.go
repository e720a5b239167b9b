package concat

import (
	"encoding/binary"
	"hash/crc32"
	"math/bits"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// nulls makes the column chunks, column indexes and offset indexes that
// fill a row group's missing fields: every row null at the top. It keeps
// what it made, as row groups of one size share them.
type nulls struct {
	proto thrift.CompactProtocol
	// codec compresses the pages, as every other chunk of the file is
	// compressed: parquet-go reads all the chunks of a column with the
	// codec of the first.
	codec  format.CompressionCodec
	chunks map[nullKey][]byte
	raw    map[nullKey]int64 // a chunk's size uncompressed
	ci     map[nullKey][]byte
}

type nullKey struct {
	def, rep int
	rows     int64
}

func (z *nulls) key(l *leaf, rows int64) nullKey {
	return nullKey{def: l.maxDef, rep: l.maxRep, rows: rows}
}

// chunk returns the column chunk of leaf l for rows null rows: one data
// page (version 1) of repetition and definition levels, all 0, and no
// values. A top-level null has one level entry per row at every depth of
// the schema.
func (z *nulls) chunk(l *leaf, rows int64) (chunk []byte, uncompressed int64) {
	k := z.key(l, rows)
	if b, ok := z.chunks[k]; ok {
		return b, z.raw[k]
	}
	var levels []byte
	if l.maxRep > 0 {
		levels = appendZeroLevels(levels, rows, l.maxRep)
	}
	if l.maxDef > 0 {
		levels = appendZeroLevels(levels, rows, l.maxDef)
	}
	body := levels
	if z.codec != format.Uncompressed {
		var err error
		if body, err = parquet.LookupCompressionCodec(z.codec).Encode(nil, levels); err != nil {
			panic("concat: compress a page of levels: " + err.Error()) // the codecs fail on no input
		}
	}
	h := format.PageHeader{
		Type:                 format.DataPage,
		UncompressedPageSize: int32(len(levels)),
		CompressedPageSize:   int32(len(body)),
		CRC:                  int32(crc32.ChecksumIEEE(body)),
		DataPageHeader: thrift.New(format.DataPageHeader{
			NumValues:               int32(rows),
			Encoding:                format.Plain,
			DefinitionLevelEncoding: format.RLE,
			RepetitionLevelEncoding: format.RLE,
			Statistics:              format.Statistics{NullCount: rows},
		}),
	}
	head, err := thrift.Marshal(&z.proto, &h)
	if err != nil {
		panic("concat: encode a page header: " + err.Error()) // plain structs always encode
	}
	b := append(head, body...)
	if z.chunks == nil {
		z.chunks, z.raw = map[nullKey][]byte{}, map[nullKey]int64{}
	}
	z.chunks[k], z.raw[k] = b, int64(len(head)+len(levels))
	return b, z.raw[k]
}

// appendZeroLevels appends n levels of 0 with maximum level max, as a
// data page v1 holds them: a 4-byte length, then one RLE run.
func appendZeroLevels(dst []byte, n int64, max int) []byte {
	width := (bits.Len(uint(max)) + 7) / 8
	run := binary.AppendUvarint(nil, uint64(n)<<1)
	run = append(run, make([]byte, width)...)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(run)))
	return append(dst, run...)
}

// histogram is a level histogram of n entries all at level 0, for levels
// up to max; nil when max is 0 (no levels are written).
func histogram(n int64, max int) []int64 {
	if max == 0 {
		return nil
	}
	h := make([]int64, max+1)
	h[0] = n
	return h
}

// meta returns the column chunk metadata of the null chunk of leaf l for
// rows rows, written at offset off with size bytes (raw uncompressed).
func (z *nulls) meta(l *leaf, rows, off, size, raw int64) format.ColumnChunk {
	return format.ColumnChunk{
		MetaData: format.ColumnMetaData{
			Type:                  l.typ,
			Encoding:              []format.Encoding{format.Plain, format.RLE},
			PathInSchema:          l.path,
			Codec:                 z.codec,
			NumValues:             rows,
			TotalUncompressedSize: raw,
			TotalCompressedSize:   size,
			DataPageOffset:        off,
			Statistics:            format.Statistics{NullCount: rows},
			EncodingStats:         []format.PageEncodingStats{{PageType: format.DataPage, Encoding: format.Plain, Count: 1}},
			SizeStatistics: format.SizeStatistics{
				RepetitionLevelHistogram: histogram(rows, l.maxRep),
				DefinitionLevelHistogram: histogram(rows, l.maxDef),
			},
		},
	}
}

// columnIndex returns the column index of the null chunk of leaf l for
// rows rows: one page, null.
func (z *nulls) columnIndex(l *leaf, rows int64) []byte {
	k := z.key(l, rows)
	if b, ok := z.ci[k]; ok {
		return b
	}
	ci := format.ColumnIndex{
		NullPages:                []bool{true},
		MinValues:                [][]byte{{}},
		MaxValues:                [][]byte{{}},
		BoundaryOrder:            format.Unordered,
		NullCounts:               []int64{rows},
		RepetitionLevelHistogram: histogram(rows, l.maxRep),
		DefinitionLevelHistogram: histogram(rows, l.maxDef),
	}
	b, err := thrift.Marshal(&z.proto, &ci)
	if err != nil {
		panic("concat: encode a column index: " + err.Error())
	}
	if z.ci == nil {
		z.ci = map[nullKey][]byte{}
	}
	z.ci[k] = b
	return b
}

// offsetIndex returns the offset index of a null chunk written at off
// with size bytes: one page, from the row group's first row.
func (z *nulls) offsetIndex(off, size int64) []byte {
	oi := format.OffsetIndex{PageLocations: []format.PageLocation{{Offset: off, CompressedPageSize: int32(size)}}}
	b, err := thrift.Marshal(&z.proto, &oi)
	if err != nil {
		panic("concat: encode an offset index: " + err.Error())
	}
	return b
}
