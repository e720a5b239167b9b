package sink

import (
	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go/format"
)

// zstdCodec is the Parquet ZSTD codec of one Encoder. It keeps its
// encoder for the Encoder's life: parquet-go's own codec keeps encoders
// in a sync.Pool, which every garbage collection empties, so that a busy
// process allocated a new encoder (its tables and history, megabytes)
// for nearly every file. It makes the same bytes as parquet-go's codec at
// the same level (one goroutine, no frame for empty input, no checksum).
// It is not safe for concurrent use, like the Encoder that owns it.
type zstdCodec struct {
	level zstd.EncoderLevel
	enc   *zstd.Encoder
	dec   *zstd.Decoder
}

func (c *zstdCodec) String() string { return "ZSTD" }

func (c *zstdCodec) CompressionCodec() format.CompressionCodec { return format.Zstd }

// Encode compresses src into dst's memory.
func (c *zstdCodec) Encode(dst, src []byte) ([]byte, error) {
	if c.enc == nil {
		level := c.level
		if level == 0 {
			level = zstd.SpeedDefault
		}
		enc, err := zstd.NewWriter(nil,
			zstd.WithEncoderConcurrency(1),
			zstd.WithEncoderLevel(level),
			zstd.WithZeroFrames(true),
			zstd.WithEncoderCRC(false),
		)
		if err != nil {
			return dst[:0], err
		}
		c.enc = enc
	}
	return c.enc.EncodeAll(src, dst[:0]), nil
}

// Decode decompresses src into dst's memory (parquet-go's writer does
// not decode; the method completes the codec).
func (c *zstdCodec) Decode(dst, src []byte) ([]byte, error) {
	if c.dec == nil {
		dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return dst[:0], err
		}
		c.dec = dec
	}
	return c.dec.DecodeAll(src, dst[:0])
}
