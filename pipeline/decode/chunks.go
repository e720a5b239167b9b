package decode

// Streamed inputs are read into chunks that are never written again once
// bytes are read into them: a record's Raw, and the strings of its images,
// are views of the chunk it was read in, shared with the records read
// before and after it, and no record's bytes are copied. Only a record cut
// by a chunk's end is moved, to the start of the next chunk, before it is
// read. A chunk's memory goes to the garbage collector once no record read
// from it is kept; a decoder keeps none of it between inputs.

// Chunk sizes: the first chunk of an input is small (small inputs are
// many), the next ones double up to maxChunkBytes; a record larger than a
// chunk gets one of twice its size, and so on up to the record size limit.
const (
	minChunkBytes = 64 << 10
	maxChunkBytes = 1 << 20
)

// chunkAlloc hands out the chunks a decoder reads an input into. The zero
// value is ready to use.
type chunkAlloc struct {
	size int // the size of the last chunk of the input
}

// next returns a new chunk holding rest, the record begun (a view of the
// chunk read into before, which is not written again), with room for at
// least room more bytes, within limit bytes unless rest and room take
// more.
func (c *chunkAlloc) next(rest []byte, room, limit int) []byte {
	c.size = min(max(2*c.size, minChunkBytes), maxChunkBytes)
	n := max(c.size, 2*len(rest))
	n = max(min(n, limit), len(rest)+room)
	buf := make([]byte, 0, n)
	return buf[:copy(buf[:len(rest)], rest)]
}

// end is called at the end of an input: the next one starts small.
func (c *chunkAlloc) end() { c.size = 0 }
