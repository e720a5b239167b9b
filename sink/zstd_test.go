package sink

import (
	"bytes"
	"math/rand"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"
)

// TestZstdCodecSameBytesAsParquetGo checks that the codec kept by an
// Encoder compresses to exactly the bytes of parquet-go's own zstd codec,
// so that files do not change with it, page after page (its encoder is
// reused) and for empty input (no frame).
func TestZstdCodecSameBytesAsParquetGo(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	var ours zstdCodec
	for _, n := range []int{0, 1, 100, 4 << 10, 256 << 10, 300 << 10} {
		page := make([]byte, n)
		for i := range page {
			page[i] = "abcdefgh01234567"[rng.Intn(16)] // compressible, not trivial
		}
		want, err := parquet.Zstd.Encode(nil, page)
		require.NoError(t, err)
		got, err := ours.Encode(nil, page)
		require.NoError(t, err)
		require.True(t, bytes.Equal(want, got), "page of %d bytes", n)
		back, err := ours.Decode(nil, got)
		require.NoError(t, err)
		require.True(t, bytes.Equal(page, back))
	}
}

// TestZstdLevel checks that a level other than the default changes the
// codec's output, and that out-of-range levels are refused.
func TestZstdLevel(t *testing.T) {
	page := bytes.Repeat([]byte("ddblake zstd level test, "), 4096)
	def, err := Compression("").codec(0).Encode(nil, page)
	require.NoError(t, err)
	fast, err := Compression("").codec(1).Encode(nil, page)
	require.NoError(t, err)
	same, err := Compression("").codec(3).Encode(nil, page)
	require.NoError(t, err)
	require.Equal(t, def, same, "level 3 is the default")
	require.NotEqual(t, def, fast)
	for _, bad := range []int{-1, 23} {
		require.ErrorIs(t, ParquetOptions{CompressionLevel: bad}.Validate(), ErrBadConfig)
	}
}
