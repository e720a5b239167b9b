package flatten

import (
	"encoding/base64"
	"unsafe"
)

// Item is one DynamoDB item held as a flat list of nodes in document
// order, with no tree of Values: each attribute is one node, followed by
// the nodes of its value's members when it is an M, L or set. Decoders
// build Items with an ItemBuilder straight from their input's bytes;
// ItemOf makes one from attributes. Batch.AddItem flattens an Item
// without building the Values of what lands in scalar columns; Attrs
// builds the attributes when something needs them whole.
//
// The zero Item is no item (an absent image); an item with no attributes
// is not zero. An Item is read-only and safe to share; its strings may
// share the memory its decoder read them from (see ItemBuilder).
type Item struct {
	nodes []itemNode
}

// itemNode is one attribute value of an Item.
type itemNode struct {
	// name is the attribute's name (a map's key); "" for the elements
	// of lists and the members of sets.
	name string
	// text is the value of an S or N, and the base64 text of a B.
	text string
	// size is the number of nodes of the value, its members included:
	// the next sibling is size nodes further on.
	size int32
	kind Kind
	// flag is the value of a BOOL.
	flag bool
}

// IsZero reports whether it is no item (an absent image).
func (it Item) IsZero() bool { return it.nodes == nil }

// Len is the number of attributes of the item.
func (it Item) Len() int {
	n := 0
	for i := 0; i < len(it.nodes); i += int(it.nodes[i].size) {
		n++
	}
	return n
}

// Names returns the names of the item's attributes, in item order.
func (it Item) Names() []string {
	var out []string
	for i := 0; i < len(it.nodes); i += int(it.nodes[i].size) {
		out = append(out, it.nodes[i].name)
	}
	return out
}

// Attrs returns the item's attributes as a tree of Values, as ParseItem
// reads them: nil for the zero Item, a non-nil slice for any other.
func (it Item) Attrs() []Attr {
	if it.nodes == nil {
		return nil
	}
	return attrsOf(it.nodes, nil)
}

// attrsOf builds the attributes whose nodes are nodes (a sequence of
// siblings), their lists and maps cut from a (nil: allocated).
func attrsOf(nodes []itemNode, a *valueSlabs) []Attr {
	n := 0
	for i := 0; i < len(nodes); i += int(nodes[i].size) {
		n++
	}
	attrs := a.attrs(n)
	for i := 0; i < len(nodes); i += int(nodes[i].size) {
		attrs = append(attrs, Attr{Name: nodes[i].name, Value: nodeValueIn(nodes[i:], a)})
	}
	return attrs
}

// nodeValue builds the Value of nodes[0], with its members.
func nodeValue(nodes []itemNode) Value { return nodeValueIn(nodes, nil) }

// nodeValueIn is nodeValue with the lists and maps cut from a (nil:
// allocated).
func nodeValueIn(nodes []itemNode, a *valueSlabs) Value {
	n := &nodes[0]
	switch n.kind {
	case S, N:
		return Value{Kind: n.kind, S: n.text}
	case B:
		return Value{Kind: B, B: decodeBase64String(n.text)}
	case BOOL:
		return Value{Kind: BOOL, Bool: n.flag}
	case NULL:
		return Value{Kind: NULL}
	case M:
		return Value{Kind: M, M: attrsOf(nodes[1:n.size], a)}
	case L, SS, NS, BS:
		members := nodes[1:n.size]
		count := 0
		for i := 0; i < len(members); i += int(members[i].size) {
			count++
		}
		l := a.values(count)
		for i := 0; i < len(members); i += int(members[i].size) {
			l = append(l, nodeValueIn(members[i:], a))
		}
		return Value{Kind: n.kind, L: l}
	}
	return Value{}
}

// valueSlabs hands out the lists and maps of the Values a Batch builds
// from Items, cut from chunks the batch keeps and reuses once reset:
// what a batch gives out (rows, proposed columns) holds no list or map
// of a Value, only their strings and bytes, so nothing outlives them.
type valueSlabs struct {
	vals slab[Value]
	atts slab[Attr]
}

// values returns an empty slice with room for n Values.
func (a *valueSlabs) values(n int) []Value {
	if a == nil {
		return make([]Value, 0, n)
	}
	return a.vals.take(n)
}

// attrs returns an empty slice with room for n Attrs.
func (a *valueSlabs) attrs(n int) []Attr {
	if a == nil {
		return make([]Attr, 0, n)
	}
	return a.atts.take(n)
}

func (a *valueSlabs) reset() {
	a.vals.reset()
	a.atts.reset()
}

// slab cuts slices from chunks it keeps until reset.
type slab[T any] struct {
	chunks [][]T
	cur    int // chunks[cur] is cut from at off
	off    int
}

// slabChunk is the length of a slab's chunks; longer slices are
// allocated on their own.
const slabChunk = 1024

// take returns an empty slice with room for n, of memory of its own until
// reset.
func (s *slab[T]) take(n int) []T {
	if n > slabChunk/8 {
		return make([]T, 0, n)
	}
	for {
		if s.cur < len(s.chunks) {
			if c := s.chunks[s.cur]; s.off+n <= len(c) {
				out := c[s.off : s.off : s.off+n]
				s.off += n
				return out
			}
			s.cur, s.off = s.cur+1, 0
			continue
		}
		s.chunks = append(s.chunks, make([]T, slabChunk))
	}
}

// reset clears what was cut (dropping its references) for reuse.
func (s *slab[T]) reset() {
	for i := 0; i < len(s.chunks) && i <= s.cur; i++ {
		clear(s.chunks[i])
	}
	s.cur, s.off = 0, 0
}

// decodeBase64String is decodeBase64 of text the builder was given
// (checked by its decoder); text that does not decode gives nil.
func decodeBase64String(s string) []byte {
	if s == "" {
		b, _ := decodeBase64(nil)
		return b
	}
	// decodeBase64 only reads its input.
	b, _ := decodeBase64(unsafe.Slice(unsafe.StringData(s), len(s)))
	return b
}

// ItemOf returns attrs as an Item: the zero Item for nil, an Item with no
// attributes for an empty non-nil slice.
func ItemOf(attrs []Attr) Item {
	if attrs == nil {
		return Item{}
	}
	b := ItemBuilder{buf: make([]itemNode, 0, countNodes(attrs))}
	b.addAttrs(attrs)
	return b.Item()
}

// countNodes is the number of nodes of attrs.
func countNodes(attrs []Attr) int {
	n := 0
	for _, a := range attrs {
		n += countValueNodes(a.Value)
	}
	return n
}

func countValueNodes(v Value) int {
	n := 1
	switch v.Kind {
	case M:
		n += countNodes(v.M)
	case L, SS, NS, BS:
		for _, e := range v.L {
			n += countValueNodes(e)
		}
	}
	return n
}

func (b *ItemBuilder) addAttrs(attrs []Attr) {
	for _, a := range attrs {
		b.addValue(a.Name, a.Value)
	}
}

func (b *ItemBuilder) addValue(name string, v Value) {
	switch v.Kind {
	case S, N:
		b.Text(name, v.Kind, v.S)
	case B:
		b.Text(name, B, base64.StdEncoding.EncodeToString(v.B))
	case BOOL:
		b.Bool(name, v.Bool)
	case NULL:
		b.Null(name)
	case M:
		b.Open(name, M)
		b.addAttrs(v.M)
		b.Close()
	case L, SS, NS, BS:
		b.Open(name, v.Kind)
		for _, e := range v.L {
			b.addValue("", e)
		}
		b.Close()
	}
}

// ItemBuilder builds Items node by node, for decoders that read DynamoDB
// items from their input: Begin, then for each attribute (in item order)
// Text, Bool or Null for a scalar, or Open, its members, Close for an M, L
// or set; then Item. The members of a list or set have the name "", those
// of a map their key.
//
// The builder checks nothing: the decoder has checked the item as
// ParseItem would (kinds, numbers, base64, UTF-8, names, depth). The
// strings it is given are kept as they are, so they may share the memory
// of the decoder's input, which must then not change while the Item is
// used. Nodes are cut from chunks of memory shared by the Items of one
// builder, so building many small items costs few allocations. The zero
// value is ready to use; it is not safe for concurrent use.
type ItemBuilder struct {
	buf   []itemNode // buf[start:] is the item being built
	start int
	open  []int // indexes (from start) of the M, L and sets open
	// Once Recycle was called: the chunks cut from since (used), and
	// those to cut from again (free).
	recycling  bool
	used, free [][]itemNode
}

// itemChunkNodes is the size of the chunks Items are cut from.
const itemChunkNodes = 4096

// maxRecycledChunks bounds the chunks a builder keeps for reuse (about
// 10 MB of nodes); past it, chunks are left to the collector.
const maxRecycledChunks = 64

// Recycle lets the builder build new Items in the memory of every Item it
// built before: the caller must no longer use any of them (nor copies of
// them), as their nodes will be written again. For decoders that build a
// batch of items, hand them on, and learn when the batch is done with, as
// a function's invocation is: the next batch's items then cost no new
// memory. From the first call on, the builder keeps the chunks it cuts
// Items from (up to a bound) until the next call; a builder never
// recycled keeps none.
func (b *ItemBuilder) Recycle() {
	if !b.recycling {
		b.recycling = true
		b.buf, b.start = nil, 0
		b.open = b.open[:0]
		return
	}
	for _, c := range b.used {
		clear(c[:cap(c)]) // drop the strings' memory
		if len(b.free) < maxRecycledChunks {
			b.free = append(b.free, c[:0])
		}
	}
	clear(b.used)
	b.used = b.used[:0]
	b.buf, b.start = nil, 0
	b.open = b.open[:0]
}

// chunk returns an empty chunk with room for n nodes at least: a
// recycled one when it is large enough, else a new one.
func (b *ItemBuilder) chunk(n int) []itemNode {
	var c []itemNode
	if k := len(b.free); k > 0 && n <= itemChunkNodes {
		c = b.free[k-1]
		b.free[k-1] = nil
		b.free = b.free[:k-1]
	} else {
		c = make([]itemNode, 0, max(itemChunkNodes, n))
	}
	if b.recycling && cap(c) == itemChunkNodes && len(b.used) < maxRecycledChunks {
		b.used = append(b.used, c)
	}
	return c
}

// Begin starts a new item, dropping one begun and not ended.
func (b *ItemBuilder) Begin() {
	b.buf = b.buf[:b.start]
	b.open = b.open[:0]
	if b.buf == nil || cap(b.buf)-b.start < 64 {
		b.buf, b.start = b.chunk(0), 0
	}
}

// Discard drops the item begun.
func (b *ItemBuilder) Discard() {
	b.buf = b.buf[:b.start]
	b.open = b.open[:0]
}

// Item ends the item begun and returns it.
func (b *ItemBuilder) Item() Item {
	end := len(b.buf)
	it := Item{nodes: b.buf[b.start:end:end]}
	b.start = end
	b.open = b.open[:0]
	return it
}

// Text adds an S or N with its text, or a B with its base64 text.
func (b *ItemBuilder) Text(name string, k Kind, text string) {
	b.push(itemNode{name: name, text: text, size: 1, kind: k})
}

// Bool adds a BOOL.
func (b *ItemBuilder) Bool(name string, v bool) {
	b.push(itemNode{name: name, size: 1, kind: BOOL, flag: v})
}

// Null adds a NULL.
func (b *ItemBuilder) Null(name string) {
	b.push(itemNode{name: name, size: 1, kind: NULL})
}

// Open adds an M, L, SS, NS or BS whose members follow, up to Close.
func (b *ItemBuilder) Open(name string, k Kind) {
	b.open = append(b.open, len(b.buf)-b.start)
	b.push(itemNode{name: name, kind: k})
}

// Close ends the M, L or set opened last.
func (b *ItemBuilder) Close() {
	i := b.open[len(b.open)-1]
	b.open = b.open[:len(b.open)-1]
	b.buf[b.start+i].size = int32(len(b.buf) - b.start - i)
}

func (b *ItemBuilder) push(n itemNode) {
	if len(b.buf) == cap(b.buf) {
		// A new chunk, with the item begun moved to its start: the items
		// already ended keep the old one.
		cur := b.buf[b.start:]
		nb := b.chunk(2 * len(cur))[:len(cur)]
		copy(nb, cur)
		b.buf, b.start = nb, 0
	}
	b.buf = append(b.buf, n)
}
