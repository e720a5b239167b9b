package sink

import (
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// decimalType is parquet-go's FIXED_LEN_BYTE_ARRAY DECIMAL type with a
// column index that claims nothing. parquet-go compares FIXED_LEN_BYTE_ARRAY
// values as unsigned bytes, so the bounds it would record for two's
// complement decimals are inverted whenever a page mixes signs, and a
// reader pruning pages by them would drop matching rows. The writer is told
// to skip page bounds and statistics for decimal columns; this type makes
// the column index that is still written well formed: every page that has
// values claims the whole range of the type (the most negative to the most
// positive value, in the signed order the spec defines for decimals), so
// no reader can prune a page wrongly.
type decimalType struct {
	parquet.Type
	size int
}

// NewColumnIndexer returns an indexer recording full-range bounds.
func (t *decimalType) NewColumnIndexer(int) parquet.ColumnIndexer {
	return &decimalIndexer{size: t.size}
}

type decimalIndexer struct {
	size       int
	nullPages  []bool
	nullCounts []int64
}

func (i *decimalIndexer) Reset() {
	i.nullPages = i.nullPages[:0]
	i.nullCounts = i.nullCounts[:0]
}

func (i *decimalIndexer) IndexPage(numValues, numNulls int64, _, _ parquet.Value) {
	i.nullPages = append(i.nullPages, numValues == numNulls)
	i.nullCounts = append(i.nullCounts, numNulls)
}

func (i *decimalIndexer) ColumnIndex() format.ColumnIndex {
	lowest := make([]byte, i.size)
	highest := make([]byte, i.size)
	lowest[0] = 0x80
	highest[0] = 0x7f
	for k := 1; k < i.size; k++ {
		highest[k] = 0xff
	}
	mins := make([][]byte, len(i.nullPages))
	maxs := make([][]byte, len(i.nullPages))
	for k, null := range i.nullPages {
		if null {
			mins[k], maxs[k] = []byte{}, []byte{}
		} else {
			mins[k], maxs[k] = lowest, highest
		}
	}
	return format.ColumnIndex{
		NullPages:     append([]bool(nil), i.nullPages...),
		NullCounts:    append([]int64(nil), i.nullCounts...),
		MinValues:     mins,
		MaxValues:     maxs,
		BoundaryOrder: format.Unordered,
	}
}
