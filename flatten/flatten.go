package flatten

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"hash"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/valyala/fastjson"

	"github.com/ddblake/ddblake/schemas"
)

// Flattener turns items of one table into flat rows, following a
// TableConfig. It is safe for concurrent use; each Batch is not.
type Flattener struct {
	cfg      TableConfig
	depth    int
	rules    *Redactor // omit, mask and expand
	explode  pathSet
	declared map[string]schemas.Type // by JoinPath path; map declarations are in maps
	maps     map[string]schemas.Type // paths declared map: the declared type, or the zero Type for "map"
	flat     map[string]bool         // paths declared flatten
	patterns bool                    // any path rule at all
	hides    bool                    // any omit or mask rule

	mu      sync.Mutex                      // serializes Learn
	learned atomic.Pointer[map[string]bool] // by path: a map column (true) or flattened for good

	idleMu sync.Mutex
	idle   []*Batch // batches released for reuse, at most maxIdleBatches
}

// Bounds of the batches a Flattener keeps for reuse: one per CPU (the
// batches built at once), and only those whose leaves fit maxKeptLeaves
// (about 15 MB), so that one huge batch does not pin its memory.
const maxKeptLeaves = 1 << 17

func maxIdleBatches() int { return runtime.GOMAXPROCS(0) }

// New returns a Flattener for cfg, or an error wrapping ErrBadConfig, or
// ErrNoMaskKey when cfg has mask rules and no MaskKey.
func New(cfg TableConfig) (*Flattener, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(cfg.Mask) > 0 && len(cfg.MaskKey) == 0 {
		return nil, fmt.Errorf("%w: mask %v", ErrNoMaskKey, cfg.Mask)
	}
	f := &Flattener{
		cfg:      cfg,
		depth:    cfg.depth(),
		rules:    NewRedactor(cfg.MaskKey, cfg),
		explode:  newPathSet(cfg.Explode),
		declared: make(map[string]schemas.Type, len(cfg.Columns)),
		maps:     map[string]schemas.Type{},
		flat:     map[string]bool{},
	}
	for p, t := range cfg.Columns {
		path := ""
		for _, seg := range splitDotted(p) {
			path = JoinPath(path, seg)
		}
		if d, ok := directive(t); ok {
			if d == ColumnMap {
				f.maps[path] = schemas.Type{}
			} else {
				f.flat[path] = true
			}
			continue
		}
		typ, _ := schemas.ParseType(t) // checked by Validate
		if typ.Kind == schemas.KindMap {
			f.maps[path] = typ
			continue
		}
		f.declared[path] = typ
	}
	f.hides = !f.rules.Empty()
	f.patterns = f.hides || len(f.rules.expand)+len(f.explode) > 0
	return f, nil
}

// Config returns the rules the Flattener follows.
func (f *Flattener) Config() TableConfig { return f.cfg }

// Learn notes what s (a schema of the Flattener's table) decided about
// its maps, so that batches added later need not find out again: a map
// at the path of a map column is kept whole from the start instead of
// being flattened and folded back into its column, and a map at a path
// with columns below it (flattened for good) is flattened without
// tracking whether to fold it. The rows are the same either way; Learn
// saves work. A schema only gains columns, so what was learned stays
// true. Learn is safe for concurrent use with itself and with Batch.Add.
func (f *Flattener) Learn(s *schemas.Schema) {
	cur := f.learned.Load()
	fresh := false
	note := func(next map[string]bool, path string, isMap bool) {
		if cur != nil {
			if _, ok := (*cur)[path]; ok {
				return
			}
		}
		fresh = true
		if next != nil {
			next[path] = isMap
		}
	}
	scan := func(next map[string]bool) {
		for _, c := range s.Columns {
			if c.Type.Kind == schemas.KindMap {
				note(next, c.Path, true)
			}
			for i := 0; i < len(c.Path); i++ {
				switch c.Path[i] {
				case '\\':
					i++
				case '.':
					note(next, c.Path[:i], false)
				}
			}
		}
	}
	scan(nil)
	if !fresh {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	cur = f.learned.Load()
	next := map[string]bool{}
	if cur != nil {
		for p, m := range *cur {
			next[p] = m
		}
	}
	cur = nil
	scan(next)
	f.learned.Store(&next)
}

// known reports what Learn found about the map at path: whether it is a
// map column (isMap) or flattened for good, and whether anything is known.
func (f *Flattener) known(path string) (isMap, ok bool) {
	m := f.learned.Load()
	if m == nil {
		return false, false
	}
	isMap, ok = (*m)[path]
	return isMap, ok
}

func splitDotted(p string) []string {
	var segs []string
	start := 0
	for i := 0; i < len(p); i++ {
		if p[i] == '.' {
			segs = append(segs, p[start:i])
			start = i + 1
		}
	}
	return append(segs, p[start:])
}

// leaf is one value that lands in one column (or in _extra).
type leaf struct {
	path string
	v    Value
}

// mapSpan is a map the walk flattened: its path, its value, and the
// leaves it became, leaves[start:end]. When the schema keeps the map at
// path whole (a map column), the leaves are set aside and the map lands
// in that one column instead. Spans are kept in walk order (a map before
// the maps inside it), so their starts never decrease.
type mapSpan struct {
	path       string
	start, end int
	v          Value
	// nodes, when set, are the map's nodes (see AddItem): v is built
	// from them the first time it is needed (value).
	nodes []itemNode
}

// spanValue returns the map of sp, building it from its nodes on first
// use.
func (b *Batch) spanValue(sp *mapSpan) Value {
	if sp.nodes != nil {
		sp.v, sp.nodes = nodeValueIn(sp.nodes, &b.vals), nil
	}
	return sp.v
}

// value builds the Value of the nodes sub (see AddItem).
func (b *Batch) value(sub []itemNode) Value { return nodeValueIn(sub, &b.vals) }

// Batch collects the flattened leaves of many items so that the types of
// new columns can be decided from all of the batch's values, then builds
// typed rows:
//
//	b := f.NewBatch()
//	b.Add(meta, image)              // for each record
//	cols := b.Propose(schema)       // new columns this batch needs
//	// add cols to the schema (merging with the stored registry)
//	rows, stats := b.Rows(nil, schema)
type Batch struct {
	f          *Flattener
	metas      []Meta
	starts     []int // leaves[starts[i]:starts[i+1]] belong to item i
	leaves     []leaf
	spanStarts []int // spans[spanStarts[i]:spanStarts[i+1]] belong to item i
	spans      []mapSpan
	omitted    int
	segs       []string
	paths      map[pathKey]string
	parser     fastjson.Parser
	extra      []byte
	hmac       hash.Hash  // masks, made on first use
	scratch    []byte     // the text of a value being masked
	vals       valueSlabs // the lists and maps of the Values built from Items
	joins      *[joinSlots]joinSlot
	cells      cellMemory // the memory of the rows built (see Rows)
}

type pathKey struct{ parent, name string }

// NewBatch returns an empty batch: one released before (see Release),
// with its memory, or a new one.
func (f *Flattener) NewBatch() *Batch {
	f.idleMu.Lock()
	if n := len(f.idle); n > 0 {
		b := f.idle[n-1]
		f.idle[n-1] = nil
		f.idle = f.idle[:n-1]
		f.idleMu.Unlock()
		return b
	}
	f.idleMu.Unlock()
	return &Batch{f: f, paths: make(map[pathKey]string), joins: new([joinSlots]joinSlot)}
}

// Release resets b and gives it back to its Flattener, whose NewBatch
// hands it out again with its memory (leaves, spans, path names), so that
// a stream of batches does not grow the same slices over and over. b must
// not be used after, nor the rows built from it: they share its memory
// (see Rows). A batch over the size kept is left to the collector.
func (b *Batch) Release() {
	if b == nil || cap(b.leaves) > maxKeptLeaves {
		return
	}
	b.Reset()
	f := b.f
	f.idleMu.Lock()
	defer f.idleMu.Unlock()
	if len(f.idle) < maxIdleBatches() {
		f.idle = append(f.idle, b)
	}
}

// Reset empties the batch for reuse, keeping its memory; the rows built
// from it must no longer be used (see Rows).
func (b *Batch) Reset() {
	clear(b.metas) // drop references to record memory
	b.metas = b.metas[:0]
	b.starts = b.starts[:0]
	clear(b.leaves) // drop references to item memory
	b.leaves = b.leaves[:0]
	b.spanStarts = b.spanStarts[:0]
	clear(b.spans)
	b.spans = b.spans[:0]
	b.omitted = 0
	b.vals.reset()
	b.cells.reset()
}

// FirstDay is the UTC day (YYYY-MM-DD) of the batch's earliest event
// time, or "" for an empty batch.
func (b *Batch) FirstDay() string {
	if len(b.metas) == 0 {
		return ""
	}
	first := b.metas[0].EventTime
	for _, m := range b.metas[1:] {
		first = min(first, m.EventTime)
	}
	return timeFromMillis(first).Format("2006-01-02")
}

// Len is the number of items added.
func (b *Batch) Len() int { return len(b.metas) }

// Keep drops the items for which keep(i) is false (i counts items in the
// order they were added), keeping the others in order, as if only they
// had been added; Omitted still counts the attributes omitted from the
// dropped items.
func (b *Batch) Keep(keep func(i int) bool) {
	var (
		metas              []Meta
		starts, spanStarts []int
		leaves             []leaf
		spans              []mapSpan
	)
	for i, m := range b.metas {
		if !keep(i) {
			continue
		}
		end, spEnd := len(b.leaves), len(b.spans)
		if i+1 < len(b.starts) {
			end, spEnd = b.starts[i+1], b.spanStarts[i+1]
		}
		// The item's maps keep their leaves, at their new place.
		shift := len(leaves) - b.starts[i]
		metas = append(metas, m)
		starts = append(starts, len(leaves))
		spanStarts = append(spanStarts, len(spans))
		leaves = append(leaves, b.leaves[b.starts[i]:end]...)
		for _, sp := range b.spans[b.spanStarts[i]:spEnd] {
			sp.start += shift
			sp.end += shift
			spans = append(spans, sp)
		}
	}
	b.metas, b.starts, b.leaves, b.spanStarts, b.spans = metas, starts, leaves, spanStarts, spans
}

// Add flattens one item (the image chosen for the row) with its metadata.
// It gives the rows AddItem gives for ItemOf(image).
func (b *Batch) Add(meta Meta, image []Attr) {
	b.metas = append(b.metas, meta)
	b.starts = append(b.starts, len(b.leaves))
	b.spanStarts = append(b.spanStarts, len(b.spans))
	b.walkMap(image, "", 1)
}

// AddItem flattens one item (the image chosen for the row) with its
// metadata, as Add does its attributes, without building the Values of
// the maps it flattens: only what lands whole in one column or in _extra
// (a list, a set, a map kept whole or past the depth) is built.
func (b *Batch) AddItem(meta Meta, image Item) {
	b.metas = append(b.metas, meta)
	b.starts = append(b.starts, len(b.leaves))
	b.spanStarts = append(b.spanStarts, len(b.spans))
	b.walkNodes(image.nodes, "", 1)
}

// Expect readies the batch for n more items like those added so far:
// its lists of items, leaves and maps grow once, to about what they will
// hold, rather than doubling over and over as the items come. It does
// nothing before the first item, or when the room is there already. The
// room it takes is bounded, whatever n.
func (b *Batch) Expect(n int) {
	have := len(b.metas)
	if have == 0 || n <= 0 {
		return
	}
	items := min(n, maxKeptLeaves)
	b.metas = reserve(b.metas, items, items)
	b.starts = reserve(b.starts, items, items)
	b.spanStarts = reserve(b.spanStarts, items, items)
	// What the items so far say the others take, at most what a batch
	// kept for reuse holds (a large first item does not say that the
	// others are); grown, with an eighth more, as items differ.
	guess := func(added int) (want, more int) {
		want = max(min(added*n/have, maxKeptLeaves-added), 0)
		return want, max(want, min(want*9/8, maxKeptLeaves-added))
	}
	leaves, moreLeaves := guess(len(b.leaves))
	b.leaves = reserve(b.leaves, leaves, moreLeaves)
	spans, moreSpans := guess(len(b.spans))
	b.spans = reserve(b.spans, spans, moreSpans)
}

// reserve returns s with room for n more elements: s itself when it has
// it, else a copy with room for more of them (at least n).
func reserve[T any](s []T, n, more int) []T {
	if cap(s)-len(s) >= n {
		return s
	}
	out := make([]T, len(s), len(s)+max(n, more))
	copy(out, s)
	return out
}

// walkNodes flattens the attributes whose nodes are nodes, found at
// depth, as walkMap does.
func (b *Batch) walkNodes(nodes []itemNode, parent string, depth int) {
	for i := 0; i < len(nodes); {
		n := &nodes[i]
		sub := nodes[i : i+int(n.size)]
		path := b.join(parent, n.name)
		b.segs = append(b.segs, n.name)
		if n.kind == M {
			b.walkMapNode(sub, path, depth)
		} else {
			b.walkValue(b.value(sub), path, depth)
		}
		b.segs = b.segs[:len(b.segs)-1]
		i += int(n.size)
	}
}

// walkMapNode is walkValue of the M whose nodes are sub.
func (b *Batch) walkMapNode(sub []itemNode, path string, depth int) {
	f := b.f
	if f.hides {
		switch f.rules.at(b.segs) {
		case Omit:
			b.omitted++
			return
		case Mask:
			b.leaves = append(b.leaves, leaf{path: path, v: b.mask(b.value(sub))})
			return
		}
	}
	if _, ok := f.declared[path]; ok {
		b.leaf(path, b.value(sub))
		return
	}
	if len(sub) > 1 { // a map with attributes
		mapCol, known := f.known(path)
		switch {
		case known && mapCol:
			b.mapLeaf(path, b.value(sub))
			return
		case known && depth < f.depth:
			b.walkNodes(sub[1:], path, depth+1) // flattened for good: no span to track
			return
		case depth < f.depth:
			si := len(b.spans)
			start := len(b.leaves)
			b.spans = append(b.spans, mapSpan{path: path, start: start, nodes: sub})
			b.walkNodes(sub[1:], path, depth+1)
			if len(b.leaves) == start {
				clear(b.spans[si:])
				b.spans = b.spans[:si]
				return
			}
			b.spans[si].end = len(b.leaves)
			return
		}
	}
	b.leaf(path, b.value(sub))
}

// joinSlots is the size of a batch's cache of joined paths by the
// identity of their parts.
const joinSlots = 512

// joinSlot is a path and the strings it was joined from.
type joinSlot struct{ parent, name, path string }

// sameString reports whether a and b are one string: the same bytes in
// the same memory (so the same text). Decoders intern attribute names,
// and join hands out one string per path, so the parts of a path are
// mostly the very strings they were before.
func sameString(a, b string) bool {
	return len(a) == len(b) && (len(a) == 0 || unsafe.StringData(a) == unsafe.StringData(b))
}

// join returns JoinPath(parent, name), one string per path: from a small
// cache keyed by the identity of its parts (no hashing of their text),
// else from a map keyed by their text.
func (b *Batch) join(parent, name string) string {
	h := uint64(uintptr(unsafe.Pointer(unsafe.StringData(parent))))*0x9E3779B97F4A7C15 ^
		uint64(uintptr(unsafe.Pointer(unsafe.StringData(name))))*0xC2B2AE3D27D4EB4F
	slot := &b.joins[(h>>40)%joinSlots]
	if sameString(slot.parent, parent) && sameString(slot.name, name) && slot.path != "" {
		return slot.path
	}
	p := b.joinText(parent, name)
	*slot = joinSlot{parent, name, p}
	return p
}

// joinText is join by the text of the parts.
func (b *Batch) joinText(parent, name string) string {
	k := pathKey{parent, name}
	if p, ok := b.paths[k]; ok {
		return p
	}
	p := JoinPath(parent, name)
	if len(b.paths) < 1<<16 {
		b.paths[k] = p
	}
	return p
}

// walkMap flattens attrs found at depth (1 for top-level attributes).
func (b *Batch) walkMap(attrs []Attr, parent string, depth int) {
	for _, a := range attrs {
		path := b.join(parent, a.Name)
		b.segs = append(b.segs, a.Name)
		b.walkValue(a.Value, path, depth)
		b.segs = b.segs[:len(b.segs)-1]
	}
}

func (b *Batch) walkValue(v Value, path string, depth int) {
	f := b.f
	if f.hides {
		switch f.rules.at(b.segs) {
		case Omit:
			b.omitted++
			return
		case Mask:
			b.leaves = append(b.leaves, leaf{path: path, v: b.mask(v)})
			return
		}
	}
	if _, ok := f.declared[path]; ok {
		b.leaf(path, v)
		return
	}
	isMap := false
	switch v.Kind {
	case S:
		if f.patterns && f.rules.Expands(b.segs) {
			if m, ok := b.expandJSON(v.S); ok {
				v, isMap = Value{Kind: M, M: m}, true
			}
		}
	case M:
		isMap = true
	case L:
		if f.patterns && len(v.L) > 0 && depth < f.depth && f.explode.match(b.segs) {
			for i, e := range v.L {
				seg := itoa(i)
				b.segs = append(b.segs, seg)
				b.walkValue(e, b.join(path, seg), depth+1)
				b.segs = b.segs[:len(b.segs)-1]
			}
			return
		}
	}
	if isMap && len(v.M) > 0 {
		mapCol, known := f.known(path)
		switch {
		case known && mapCol:
			b.mapLeaf(path, v)
			return
		case known && depth < f.depth:
			b.walkMap(v.M, path, depth+1) // flattened for good: no span to track
			return
		case depth < f.depth:
			b.descend(v, path, depth)
			return
		}
	}
	b.leaf(path, v)
}

// leaf adds v, found at b.segs, as one value. When a rule names a path
// inside v (a map past the depth, a list not exploded, a declared column,
// a map kept whole as a map column, expanded JSON that is not an object),
// the rule is applied inside it: what the configuration hides never
// lands, whole or in part.
func (b *Batch) leaf(path string, v Value) {
	if b.f.hides && b.f.rules.hidesBelow(b.segs) {
		var n int
		v, n = b.f.rules.redactValue(b.hasher(), v, b.segs)
		b.omitted += n
	}
	b.leaves = append(b.leaves, leaf{path: path, v: v})
}

// descend flattens the non-empty map v at path, recording it as a span.
// A map whose attributes were all omitted leaves no span.
func (b *Batch) descend(v Value, path string, depth int) {
	si := len(b.spans)
	start := len(b.leaves)
	b.spans = append(b.spans, mapSpan{path: path, start: start, v: v})
	b.walkMap(v.M, path, depth+1)
	if len(b.leaves) == start {
		clear(b.spans[si:])
		b.spans = b.spans[:si]
		return
	}
	b.spans[si].end = len(b.leaves)
}

// mapLeaf adds the non-empty map v, kept whole in its map column, as one
// leaf with the rules applied inside it; a map whose every entry the
// rules omit adds nothing, as when it is flattened.
func (b *Batch) mapLeaf(path string, v Value) {
	n := len(b.leaves)
	b.leaf(path, v)
	if len(b.leaves[n].v.M) == 0 {
		clear(b.leaves[n:])
		b.leaves = b.leaves[:n]
	}
}

// ruled returns v, the map at the path segs that a map column keeps
// whole, with the omit and mask rules applied inside it (as leaf applies
// them to a value kept whole), and the number of attributes omitted. v
// comes back as it is when no rule names a path inside it.
func (b *Batch) ruled(v Value, segs []string) (Value, int) {
	if !b.f.hides || !b.f.rules.hidesBelow(segs) {
		return v, 0
	}
	return b.f.rules.redactValue(b.hasher(), v, segs)
}

// mask returns the mask of v (see Redactor).
func (b *Batch) mask(v Value) Value {
	var m Value
	m, b.scratch = maskInto(b.hasher(), v, b.scratch)
	return m
}

func (b *Batch) hasher() hash.Hash {
	if b.hmac == nil {
		b.hmac = hmac.New(sha256.New, b.f.cfg.MaskKey)
	}
	return b.hmac
}

// expandJSON parses text holding a JSON object into attributes. Text that
// is not such an object, or that a parse would alter (an escape that is
// not valid UTF-8, a key repeated in one object, an empty key, which no
// path can hold), is not expanded: the value stays the string it is.
func (b *Batch) expandJSON(text string) ([]Attr, bool) {
	if strings.IndexByte(text, '\\') >= 0 && CheckEscapes([]byte(text)) != nil {
		return nil, false
	}
	jv, err := b.parser.Parse(text)
	if err != nil || jv.Type() != fastjson.TypeObject {
		return nil, false
	}
	v, ok := fromJSON(jv, 1)
	return v.M, ok
}

// fromJSON converts plain JSON to attribute values: strings to S, numbers
// to N (S when DynamoDB could not hold them), booleans to BOOL, null to
// NULL, objects to M, arrays to L. Nesting past MaxDepth becomes S text.
// It reports false for an object that repeats a key or has an empty one.
func fromJSON(jv *fastjson.Value, depth int) (Value, bool) {
	if depth > MaxDepth {
		return Value{Kind: S, S: string(jv.MarshalTo(nil))}, true
	}
	switch jv.Type() {
	case fastjson.TypeString:
		return Value{Kind: S, S: string(jv.GetStringBytes())}, true
	case fastjson.TypeNumber:
		text := string(jv.MarshalTo(nil))
		if _, err := ParseNumber(text); err != nil {
			return Value{Kind: S, S: text}, true
		}
		return Value{Kind: N, S: text}, true
	case fastjson.TypeTrue:
		return Value{Kind: BOOL, Bool: true}, true
	case fastjson.TypeFalse:
		return Value{Kind: BOOL}, true
	case fastjson.TypeNull:
		return Value{Kind: NULL}, true
	case fastjson.TypeArray:
		arr, _ := jv.Array()
		l := make([]Value, len(arr))
		for i, e := range arr {
			var ok bool
			if l[i], ok = fromJSON(e, depth+1); !ok {
				return Value{}, false
			}
		}
		return Value{Kind: L, L: l}, true
	}
	o, _ := jv.Object()
	m := make([]Attr, 0, o.Len())
	ok := true
	o.Visit(func(k []byte, e *fastjson.Value) {
		if !ok {
			return
		}
		name := string(k)
		if name == "" {
			ok = false // no attribute has an empty name
			return
		}
		for i := range m {
			if m[i].Name == name {
				ok = false // which of the two is meant cannot be told
				return
			}
		}
		var v Value
		if v, ok = fromJSON(e, depth+1); ok {
			m = append(m, Attr{Name: name, Value: v})
		}
	})
	if !ok {
		return Value{}, false
	}
	return Value{Kind: M, M: m}, true
}

// Propose returns the columns the batch needs that s does not have, in
// first-seen order, with types decided from every value of the batch (or
// declared). Names are proposals: Schema.Add makes them unique. FirstSeen
// is the earliest event time of the batch.
//
// A map whose path has no column yet becomes one map column, instead of
// a column per key, when the configuration declares it a map, or when
// the keys seen at its path in the batch look like data (see DataKey and
// MapKeysLimit), unless the configuration declares it flatten or s has
// columns below its path already (it was flattened before, and stays
// so). A map inside a map column is part of that column.
func (b *Batch) Propose(s *schemas.Schema) []schemas.Column {
	var first int64
	for i, m := range b.metas {
		if i == 0 || m.EventTime < first {
			first = m.EventTime
		}
	}
	newMaps := b.decideMaps(s)
	folds := func(path string) bool {
		if i, ok := s.Lookup(path); ok {
			return s.Columns[i].Type.Kind == schemas.KindMap
		}
		_, ok := newMaps[path]
		return ok
	}
	accs := map[string]*typeAcc{}
	var order []*typeAcc
	acc := func(path string) *typeAcc {
		a, ok := accs[path]
		if !ok {
			a = &typeAcc{path: path, allInt: true}
			t, isMap := newMaps[path]
			if !isMap {
				// A path declared map whose values are no maps yet.
				t, isMap = b.f.maps[path]
				isMap = isMap && !s.HasColumnsUnder(path)
			}
			if isMap {
				a.isMap = true
				if t.Kind != schemas.KindInvalid {
					a.declared, a.declType = true, t
				}
			} else if t, ok := b.f.declared[path]; ok {
				a.declared, a.declType = true, t
			}
			accs[path] = a
			order = append(order, a)
		}
		return a
	}
	var segs map[string][]string
	has := lookupMemo{s: s}
	for i := range b.metas {
		w := b.walk(i, folds)
		for {
			l, sp, ok := w.next()
			if !ok {
				break
			}
			if sp != nil {
				if !has.path(sp.path) {
					v, _ := b.ruled(b.spanValue(sp), segsOf(&segs, sp.path))
					acc(sp.path).addEntries(v.M)
				}
				continue
			}
			if has.path(l.path) {
				continue
			}
			a := acc(l.path)
			if !a.isMap {
				a.add(l.v)
			} else if l.v.Kind == M {
				a.addEntries(l.v.M)
			}
		}
	}
	cols := make([]schemas.Column, 0, len(order))
	for _, a := range order {
		c, ok := a.column()
		if !ok {
			continue
		}
		c.Name = ColumnName(a.path)
		c.FirstSeen = timeFromMillis(first)
		cols = append(cols, c)
	}
	return cols
}

// lookupMemo answers whether a schema has a column at a path, from a
// small cache keyed by the identity of the path's string (join hands out
// one string per path), else from the schema.
type lookupMemo struct {
	s     *schemas.Schema
	slots [256]struct {
		path string
		has  bool
	}
}

// path reports whether m.s has a column at path.
func (m *lookupMemo) path(path string) bool {
	slot := &m.slots[uint64(uintptr(unsafe.Pointer(unsafe.StringData(path))))*0x9E3779B97F4A7C15>>56]
	if len(path) > 0 && sameString(slot.path, path) {
		return slot.has
	}
	_, ok := m.s.Lookup(path)
	slot.path, slot.has = path, ok
	return ok
}

// columnMemo answers the column index of a path in a schema, from a
// small cache keyed by the identity of the path's string (join hands out
// one string per path), else from the schema: Rows looks up every cell's
// path, and most are the same few strings.
type columnMemo struct {
	s     *schemas.Schema
	slots [512]struct {
		path string
		idx  int // -1: no column
	}
}

// lookup is m.s.Lookup(path).
func (m *columnMemo) lookup(path string) (int, bool) {
	slot := &m.slots[uint64(uintptr(unsafe.Pointer(unsafe.StringData(path))))*0x9E3779B97F4A7C15>>55]
	if len(path) > 0 && sameString(slot.path, path) {
		return slot.idx, slot.idx >= 0
	}
	i, ok := m.s.Lookup(path)
	if !ok {
		i = -1
	}
	slot.path, slot.idx = path, i
	return i, ok
}

// segsOf returns the segments of path, splitting each path once.
func segsOf(cache *map[string][]string, path string) []string {
	if *cache == nil {
		*cache = map[string][]string{}
	}
	segs, ok := (*cache)[path]
	if !ok {
		segs = SplitPath(path)
		(*cache)[path] = segs
	}
	return segs
}

// decideMaps returns the paths of the maps of the batch that become new
// map columns, with their declared type (the zero Type when the type is
// to be decided from the values).
func (b *Batch) decideMaps(s *schemas.Schema) map[string]schemas.Type {
	var stats map[string]*mapStats
	var segs map[string][]string
	for i := range b.spans {
		sp := &b.spans[i]
		if _, ok := s.Lookup(sp.path); ok || b.f.flat[sp.path] || s.HasColumnsUnder(sp.path) {
			continue
		}
		if stats == nil {
			stats = map[string]*mapStats{}
		}
		st, ok := stats[sp.path]
		if !ok {
			st = newMapStats()
			stats[sp.path] = st
		}
		v, _ := b.ruled(b.spanValue(sp), segsOf(&segs, sp.path))
		st.addKeys(v.M)
	}
	out := map[string]schemas.Type{}
	for path, st := range stats {
		if t, ok := b.f.maps[path]; ok {
			out[path] = t
		} else if st.isMap() {
			out[path] = schemas.Type{}
		}
	}
	return out
}

// itemWalk steps through the leaves of one item in order, giving the
// outermost span whose path folds (a map kept whole) in place of its
// leaves.
type itemWalk struct {
	b         *Batch
	li, hi    int // leaves[li:hi] are left
	sp, spEnd int // spans[sp:spEnd] are left
	folds     func(path string) bool
}

// walk returns the walk of item i; folds says which span paths fold.
func (b *Batch) walk(i int, folds func(path string) bool) itemWalk {
	w := itemWalk{b: b, li: b.starts[i], hi: len(b.leaves), sp: b.spanStarts[i], spEnd: len(b.spans), folds: folds}
	if i+1 < len(b.starts) {
		w.hi, w.spEnd = b.starts[i+1], b.spanStarts[i+1]
	}
	return w
}

// next returns the next leaf, or the next folded span (its leaves
// skipped); ok is false at the end of the item.
func (w *itemWalk) next() (l *leaf, fold *mapSpan, ok bool) {
	if w.li >= w.hi {
		return nil, nil, false
	}
	spans := w.b.spans
	for w.sp < w.spEnd && spans[w.sp].start <= w.li {
		cur := w.sp
		w.sp++
		if spans[cur].start == w.li && w.folds(spans[cur].path) {
			fs := &spans[cur]
			for w.sp < w.spEnd && spans[w.sp].start < fs.end {
				w.sp++ // the maps inside it
			}
			w.li = fs.end
			return nil, fs, true
		}
	}
	l = &w.b.leaves[w.li]
	w.li++
	return l, nil, true
}

// typeAcc gathers what a batch says about the values of one new path.
type typeAcc struct {
	path     string
	declared bool
	declType schemas.Type

	source Kind // kind of the first value that can found a column
	elem   Kind // L: the element kind of the first non-empty list
	mixed  bool // L: the first non-empty list is not homogeneous scalars

	isMap   bool     // a new map column
	mapVals valueAcc // its values

	nums      int // N values seen (in N, NS, or the elements of L of N)
	allInt    bool
	maxScale  int
	maxIntDig int
}

func (a *typeAcc) add(v Value) {
	if a.declared {
		return
	}
	switch v.Kind {
	case NULL:
		return
	case M:
		if len(v.M) == 0 && a.source == KindInvalid {
			return
		}
	case L:
		if len(v.L) == 0 {
			return
		}
	}
	if a.source == KindInvalid {
		a.source = v.Kind
		if v.Kind == L {
			a.elem, a.mixed = listElem(v.L)
		}
	}
	if v.Kind != a.source {
		return
	}
	switch v.Kind {
	case N:
		a.addNum(v.S)
	case NS:
		for _, e := range v.L {
			a.addNum(e.S)
		}
	case L:
		if !a.mixed && a.elem == N {
			if k, mixed := listElem(v.L); k == N && !mixed {
				for _, e := range v.L {
					a.addNum(e.S)
				}
			}
		}
	}
}

// addEntries notes the values of one map kept whole.
func (a *typeAcc) addEntries(m []Attr) {
	for _, e := range m {
		a.mapVals.add(e.Value)
	}
}

func (a *typeAcc) addNum(text string) {
	n, err := ParseNumber(text)
	if err != nil {
		return
	}
	a.nums++
	if _, ok := n.Int64(); !ok {
		a.allInt = false
	}
	if f := n.FracDigits(); f > a.maxScale {
		a.maxScale = f
	}
	if d := n.IntDigits(); d > a.maxIntDig {
		a.maxIntDig = d
	}
}

// numType is bigint, decimal(38,s) or string, from the numbers seen.
func (a *typeAcc) numType() schemas.Type {
	switch {
	case a.allInt:
		return schemas.Bigint
	case a.maxIntDig+a.maxScale <= schemas.MaxDecimalPrecision:
		return schemas.Decimal(schemas.MaxDecimalPrecision, a.maxScale)
	}
	return schemas.String
}

// listElem returns the kind shared by every element of l, and whether
// the list is mixed (kinds differ, or an element is not S, N, B or BOOL).
func listElem(l []Value) (Kind, bool) {
	if len(l) == 0 {
		return KindInvalid, false
	}
	k := l[0].Kind
	for _, e := range l {
		if e.Kind != k {
			return KindInvalid, true
		}
	}
	switch k {
	case S, N, B, BOOL:
		return k, false
	}
	return KindInvalid, true
}

func (a *typeAcc) column() (schemas.Column, bool) {
	if a.declared {
		return schemas.Column{Path: a.path, Type: a.declType, Declared: true}, true
	}
	if a.isMap {
		t := a.mapVals.typ()
		if t.Kind == schemas.KindInvalid {
			return schemas.Column{}, false // only NULLs or empty values: no column yet
		}
		return schemas.Column{Path: a.path, Type: schemas.MapOf(t), Source: M.String()}, true
	}
	c := schemas.Column{Path: a.path, Source: a.source.String()}
	switch a.source {
	case S:
		c.Type = schemas.String
	case B:
		c.Type = schemas.Binary
	case BOOL:
		c.Type = schemas.Boolean
	case N:
		c.Type = a.numType()
	case SS:
		c.Type = schemas.ArrayOf(schemas.String)
	case BS:
		c.Type = schemas.ArrayOf(schemas.Binary)
	case NS:
		c.Type = schemas.ArrayOf(a.numType())
	case M:
		c.Type = schemas.JSON
	case L:
		if a.mixed {
			c.Type = schemas.JSON
			break
		}
		switch a.elem {
		case S:
			c.Type = schemas.ArrayOf(schemas.String)
		case B:
			c.Type = schemas.ArrayOf(schemas.Binary)
		case BOOL:
			c.Type = schemas.ArrayOf(schemas.Boolean)
		case N:
			if t := a.numType(); t.Kind != schemas.KindString {
				c.Type = schemas.ArrayOf(t)
			} else {
				c.Type = schemas.JSON // numbers too wide for decimal: keep them exact as JSON
			}
		}
	default: // only NULLs or empty values: no column yet
		return schemas.Column{}, false
	}
	return c, true
}

// Rows appends one row per item, typed by s, to dst. Values that do not
// fit their column, and paths s has no column for, go to _extra; so do the
// entries of a map column's map that do not fit its value type. A NULL,
// an empty list and an empty map always go to _extra and never fill a
// cell (their column, if any, is null): so a row is the same whatever
// columns the schema gained since, and NULL stays told from absent; the
// same holds for the entries of a map kept in a map column.
//
// The rows' cells, lists and text are in the batch's memory: they stay
// valid until the batch is Reset or Released, which reuses that memory
// for the next batch's rows. Strings of the items added are shared, not
// copied.
func (b *Batch) Rows(dst []Row, s *schemas.Schema) ([]Row, Stats) {
	st := Stats{Rows: len(b.metas), Omitted: b.omitted}
	var (
		rb   rowBuilder
		segs map[string][]string
	)
	rb.mem = &b.cells
	cells := &b.cells.rows
	cols := columnMemo{s: s}
	folds := func(path string) bool {
		i, ok := cols.lookup(path)
		return ok && s.Columns[i].Type.Kind == schemas.KindMap
	}
	for i, meta := range b.metas {
		row := Row{Meta: meta}
		rb.reset()
		rb.vals = cells.reserve(len(s.Columns))
		w := b.walk(i, folds)
		for {
			l, sp, ok := w.next()
			if !ok {
				break
			}
			if sp != nil {
				idx, _ := cols.lookup(sp.path)
				v, _ := b.ruled(b.spanValue(sp), segsOf(&segs, sp.path))
				rb.put(s, idx, sp.path, &v)
				continue
			}
			if isEmpty(l.v) {
				// The NULL rule: kept in _extra whatever the schema holds,
				// so a row never depends on which columns exist yet.
				rb.extra = append(rb.extra, *l)
				continue
			}
			idx, ok := cols.lookup(l.path)
			if !ok {
				rb.misfit(*l) // no column yet
				continue
			}
			rb.put(s, idx, l.path, &l.v)
		}
		// The row is as long as its last cell: shorter rows read as nulls
		// to the end, and a wide, sparse table does not cost a cell per
		// column per row.
		switch {
		case rb.n == 0:
		case rb.vals != nil:
			row.Values = cells.commit(rb.last + 1)
		default:
			row.Values = cells.take(rb.last + 1)
			for _, c := range rb.cells {
				row.Values[c.idx] = c.d
			}
		}
		if len(rb.extra) > 0 {
			st.Misfits += rb.misfits
			b.extra = rb.tree.appendExtra(b.extra[:0], rb.extra)
			row.Extra = rb.mem.bytes(b.extra)
		}
		dst = append(dst, row)
	}
	return dst, st
}

// datumSlab hands out the cells of rows from chunks shared by many rows:
// a batch's rows cost a few allocations, not one each, and a batch
// reused after Reset costs none, up to maxKeptChunks of chunks.
type datumSlab struct {
	chunks [][]Datum // the chunks handed out from, kept for reuse
	used   int       // chunks[:used] are in use, the last one being free's
	free   []Datum
}

// datumChunk is the size of a datumSlab's chunks (about 360 KB).
const datumChunk = 4096

// maxKeptChunks bounds the chunks a datumSlab keeps for reuse (about
// 11 MB, the cells of a batch of maxKeptLeaves).
const maxKeptChunks = 32

// next makes the next chunk free's, reusing a kept one.
func (s *datumSlab) next() {
	if s.used == len(s.chunks) {
		s.chunks = append(s.chunks, make([]Datum, datumChunk))
	}
	s.free = s.chunks[s.used]
	s.used++
}

// reset zeroes the cells handed out and keeps their chunks for reuse: the
// rows built from them must no longer be used.
func (s *datumSlab) reset() {
	for i := range s.chunks[:s.used] {
		c := s.chunks[i]
		if i == s.used-1 {
			// The rest is zero: never handed out, or reserved and left
			// zero (see commit).
			c = c[:len(c)-len(s.free)]
		}
		clear(c)
	}
	if len(s.chunks) > maxKeptChunks {
		clear(s.chunks[maxKeptChunks:])
		s.chunks = s.chunks[:maxKeptChunks]
	}
	s.used, s.free = 0, nil
}

// take returns n zero cells of their own, capped at n.
func (s *datumSlab) take(n int) []Datum {
	if n > datumChunk/4 {
		return make([]Datum, n)
	}
	if len(s.free) < n {
		s.next()
	}
	out := s.free[:n:n]
	s.free = s.free[n:]
	return out
}

// reserve returns n zero cells for a row to write its cells into, in
// place, before it knows how many it keeps (commit); nil when n is too
// many to reserve.
func (s *datumSlab) reserve(n int) []Datum {
	if n > datumChunk/4 {
		return nil
	}
	if len(s.free) < n {
		s.next()
	}
	return s.free[:n]
}

// commit gives the first n cells reserved to the row that wrote them;
// the others stay zero, for the next row.
func (s *datumSlab) commit(n int) []Datum {
	out := s.free[:n:n]
	s.free = s.free[n:]
	return out
}

// rowBuilder gathers the cells and the _extra of one row.
type rowBuilder struct {
	mem     *cellMemory // the memory of the batch's rows
	tree    extraTree   // scratch of appendExtra
	bad     []Attr      // scratch of put: entries of a map that do not fit
	empty   []Attr      // scratch of put: entries of a map that are empty
	extra   []leaf      // misfits and empty values, in item order
	misfits int         // how many of extra are misfits
	// vals, when set, receives the cells in place, by column index;
	// else cells gathers them.
	vals  []Datum
	cells []rowCell
	n     int // cells put
	last  int // the largest column index of a cell
}

type rowCell struct {
	idx int
	d   Datum
}

func (rb *rowBuilder) reset() {
	rb.extra, rb.misfits, rb.vals, rb.cells, rb.n, rb.last = rb.extra[:0], 0, nil, rb.cells[:0], 0, 0
}

// cell keeps d as the cell of column idx.
func (rb *rowBuilder) cell(idx int, d Datum) {
	if rb.vals != nil {
		rb.vals[idx] = d
	} else {
		rb.cells = append(rb.cells, rowCell{idx, d})
	}
	rb.n++
	rb.last = max(rb.last, idx)
}

// misfit keeps l in _extra as a value that has no fitting column.
func (rb *rowBuilder) misfit(l leaf) {
	rb.extra = append(rb.extra, l)
	rb.misfits++
}

// put converts v, found at path, into the cell of column idx, or into
// misfits.
func (rb *rowBuilder) put(s *schemas.Schema, idx int, path string, v *Value) {
	c := &s.Columns[idx]
	if c.Type.Kind == schemas.KindMap && v.Kind == M && len(v.M) > 0 &&
		(c.Source == "" || c.Source == v.Kind.String()) {
		var d Datum
		d, rb.bad, rb.empty = convertMap(rb.mem, v, c, rb.bad[:0], rb.empty[:0])
		for _, e := range rb.bad {
			rb.misfit(leaf{path: JoinPath(path, e.Name), v: e.Value})
		}
		for _, e := range rb.empty { // the NULL rule, inside the map too
			rb.extra = append(rb.extra, leaf{path: JoinPath(path, e.Name), v: e.Value})
		}
		clear(rb.bad)
		clear(rb.empty)
		if d.Valid {
			rb.cell(idx, d)
		}
		return
	}
	if rb.vals == nil {
		var d Datum
		if !convertCell(&d, rb.mem, v, c) {
			rb.misfit(leaf{path: path, v: *v})
			return
		}
		rb.cell(idx, d)
		return
	}
	// The cell is converted in place (a Datum is large to copy).
	if !convertCell(&rb.vals[idx], rb.mem, v, c) {
		rb.misfit(leaf{path: path, v: *v})
		return
	}
	rb.n++
	rb.last = max(rb.last, idx)
}

// Convert returns v as a cell of column c, or false when it does not fit.
// A NULL, an empty list and an empty map fit no column: they are kept in
// _extra (see Rows). A map fits a map column when every entry fits its
// value type (Rows keeps the entries that fit and puts the others in
// _extra).
func Convert(v Value, c schemas.Column) (Datum, bool) {
	var d Datum
	ok := convertCell(&d, nil, &v, &c)
	return d, ok
}

// convertCell is Convert without copies: it sets *d, or leaves it as it
// was when v does not fit, taking the cell's memory from m (from the heap
// when m is nil).
func convertCell(d *Datum, m *cellMemory, v *Value, c *schemas.Column) bool {
	if isEmpty(*v) {
		return false
	}
	if c.Source != "" && c.Source != v.Kind.String() {
		return false
	}
	if c.Type.Kind == schemas.KindMap {
		if v.Kind != M {
			return false
		}
		md, bad, empty := convertMap(m, v, c, nil, nil)
		if len(bad)+len(empty) > 0 {
			return false
		}
		*d = md
		return true
	}
	return convert(d, m, v, &c.Type, c.Declared)
}

// convertMap returns the non-empty map v as a cell of the map column c,
// the entries that do not fit c's value type, and the entries that are
// NULL, an empty list or an empty map: like any NULL (the NULL rule) they
// are kept in _extra, never in the map, so the map holds the same entries
// whether or not its column existed when the row's batch was flattened.
// A json value is the entry's DynamoDB JSON, whatever its kind. Like the
// elements of a list, a string value not made from S does not fit a
// string map that was not declared. The cell is null when no entry fits.
// The entries are appended to bad and empty; the cell's memory comes from
// m (from the heap when m is nil).
func convertMap(m *cellMemory, v *Value, c *schemas.Column, bad, empty []Attr) (Datum, []Attr, []Attr) {
	elem := c.Type.Leaf()
	kv := m.list(2 * len(v.M))[:0]
	for i := range v.M {
		e := &v.M[i]
		if isEmpty(e.Value) {
			empty = append(empty, *e)
			continue
		}
		var d Datum
		ok := true
		switch {
		case elem.Kind == schemas.KindJSON:
			d = Datum{Valid: true, Str: m.json(&e.Value)}
		case elem.Kind == schemas.KindString && !c.Declared && e.Value.Kind != S:
			ok = false
		default:
			ok = convert(&d, m, &e.Value, &elem, c.Declared)
		}
		if !ok {
			bad = append(bad, *e)
			continue
		}
		kv = append(kv, Datum{Valid: true, Str: e.Name}, d)
	}
	if len(kv) == 0 {
		return Datum{}, bad, empty
	}
	return MapOf(kv...), bad, empty
}

// isEmpty reports whether v is NULL, an empty list or an empty map: the
// values the NULL rule keeps in _extra. DynamoDB tells them from an
// absent attribute, and so does the lake.
func isEmpty(v Value) bool {
	switch v.Kind {
	case NULL:
		return true
	case L:
		return len(v.L) == 0
	case M:
		return len(v.M) == 0
	}
	return false
}

// convert sets *d to v as a cell of type t, or reports false when it
// does not fit, leaving *d as it was; the memory of a list or json cell
// comes from m (from the heap when m is nil).
func convert(d *Datum, m *cellMemory, v *Value, t *schemas.Type, declared bool) bool {
	switch t.Kind {
	case schemas.KindString:
		switch v.Kind {
		case S:
			*d = Datum{Valid: true, Str: v.S}
			return true
		case N:
			*d = Datum{Valid: true, Str: v.S}
			return true
		}
	case schemas.KindBigint:
		if v.Kind == N {
			if i, ok := plainInt(v.S); ok {
				*d = Datum{Valid: true, Int: i}
				return true
			}
			if n, err := ParseNumber(v.S); err == nil {
				if i, ok := n.Int64(); ok {
					*d = Datum{Valid: true, Int: i}
					return true
				}
			}
		}
	case schemas.KindDecimal:
		if v.Kind == N {
			if plainDecimal(v.S, t.Precision, t.Scale) {
				*d = Datum{Valid: true, Str: v.S}
				return true
			}
			if n, err := ParseNumber(v.S); err == nil &&
				n.FracDigits() <= t.Scale && n.IntDigits() <= t.Precision-t.Scale {
				*d = Datum{Valid: true, Str: n.Text(t.Scale)}
				return true
			}
		}
	case schemas.KindDouble:
		if v.Kind == N {
			if f, err := parseFloat(v.S); err == nil {
				*d = Datum{Valid: true, Float: f}
				return true
			}
		}
	case schemas.KindBoolean:
		if v.Kind == BOOL {
			*d = Datum{Valid: true, Bool: v.Bool}
			return true
		}
	case schemas.KindBinary:
		if v.Kind == B {
			*d = Datum{Valid: true, Bytes: v.B}
			return true
		}
	case schemas.KindTimestamp:
		if ms, ok := timestampMillis(*v); ok {
			*d = Datum{Valid: true, Int: ms}
			return true
		}
	case schemas.KindJSON:
		if v.Kind == M || v.Kind == L || declared {
			*d = Datum{Valid: true, Str: m.json(v)}
			return true
		}
	case schemas.KindArray:
		switch v.Kind {
		case SS, NS, BS, L:
		default:
			return false
		}
		list := m.list(len(v.L))
		for i := range v.L {
			e := &v.L[i]
			if !declared && t.Elem.Kind == schemas.KindString && e.Kind != S && v.Kind == L {
				return false
			}
			if !convert(&list[i], m, e, t.Elem, declared) {
				return false
			}
		}
		*d = Datum{Valid: true, List: list}
		return true
	}
	return false
}

// cellMemory hands out the memory of a batch's rows: their cells, the
// cells of lists and maps, the text of json cells and _extra, from chunks
// shared by many rows, so that a batch's rows cost a few allocations
// rather than several each, and none when the batch is reused. A chunk's
// text is never written again until reset. A nil *cellMemory allocates
// each on the heap.
type cellMemory struct {
	rows    datumSlab // the rows' cells (see Rows)
	lists   datumSlab // the elements of lists, the entries of maps
	texts   [][]byte  // the text chunks, kept for reuse
	used    int       // texts[:used] are in use, the last one being text's
	text    []byte    // the free end of the current text chunk
	scratch []byte    // the text of a json cell being rendered
}

// textChunk is the size of a cellMemory's text chunks.
const textChunk = 64 << 10

// maxKeptTexts bounds the text chunks a cellMemory keeps for reuse.
const maxKeptTexts = 16

// reset makes the memory handed out free for reuse: the rows built from
// it must no longer be used.
func (m *cellMemory) reset() {
	m.rows.reset()
	m.lists.reset()
	if len(m.texts) > maxKeptTexts {
		clear(m.texts[maxKeptTexts:])
		m.texts = m.texts[:maxKeptTexts]
	}
	m.used, m.text = 0, nil
}

// list returns n zero cells of their own, capped at n.
func (m *cellMemory) list(n int) []Datum {
	if m == nil {
		return make([]Datum, n)
	}
	return m.lists.take(n)
}

// bytes returns a copy of b, capped at its length.
func (m *cellMemory) bytes(b []byte) []byte {
	if m == nil || len(b) > textChunk/4 {
		return append([]byte(nil), b...)
	}
	if len(m.text) < len(b) {
		if m.used == len(m.texts) {
			m.texts = append(m.texts, make([]byte, textChunk))
		}
		m.text = m.texts[m.used]
		m.used++
	}
	out := m.text[:len(b):len(b)]
	copy(out, b)
	m.text = m.text[len(b):]
	return out
}

// json returns the DynamoDB JSON of v as a string.
func (m *cellMemory) json(v *Value) string {
	if m == nil {
		return string(AppendValueJSON(nil, *v))
	}
	m.scratch = AppendValueJSON(m.scratch[:0], *v)
	if len(m.scratch) == 0 {
		return ""
	}
	b := m.bytes(m.scratch)
	return unsafe.String(&b[0], len(b))
}

// appendExtra renders leaves (in item order) as one DynamoDB JSON object,
// nesting paths back into maps: a leaf at a.b becomes {"a":{"M":{"b":...}}}.
// Without t, it builds its tree on the heap.
func appendExtra(dst []byte, leaves []leaf) []byte {
	var t extraTree
	return t.appendExtra(dst, leaves)
}

// appendExtra is the function appendExtra, keeping its tree in t's memory
// for the next call.
func (t *extraTree) appendExtra(dst []byte, leaves []leaf) []byte {
	if flat := topLevel(leaves); flat {
		// The common case (a NULL or a misfit at the top level): no
		// nesting to rebuild.
		dst = append(dst, '{')
		for i, l := range leaves {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSONString(dst, l.path)
			dst = append(dst, ':')
			dst = AppendValueJSON(dst, l.v)
		}
		return append(dst, '}')
	}
	t.reset()
	root := t.node()
	for i := range leaves {
		n, rest, more := root, leaves[i].path, true
		for more {
			var seg string
			seg, rest, more = t.nextSegment(rest)
			n = t.child(n, seg)
		}
		t.nodes[n].value = int32(i) + 1
	}
	return t.appendMap(dst, root, leaves)
}

// topLevel reports whether every leaf is a top-level attribute (its path
// one plain name) and no name is there twice.
func topLevel(leaves []leaf) bool {
	if len(leaves) > 8 {
		return false
	}
	for i, l := range leaves {
		if strings.ContainsAny(l.path, `.\`) {
			return false
		}
		for _, o := range leaves[:i] {
			if o.path == l.path {
				return false
			}
		}
	}
	return true
}

// extraTree is the nesting of one row's _extra leaves: node 0 is the
// root; the nodes are reused from row to row.
type extraTree struct {
	nodes []extraNode
	seg   []byte // scratch of nextSegment
}

type extraNode struct {
	names    []string
	children []int32
	value    int32 // 1 + the index of the leaf the node holds; 0 for none
}

func (t *extraTree) reset() { t.nodes = t.nodes[:0] }

// node adds an empty node and returns its index.
func (t *extraTree) node() int32 {
	if len(t.nodes) < cap(t.nodes) {
		t.nodes = t.nodes[:len(t.nodes)+1]
		n := &t.nodes[len(t.nodes)-1]
		clear(n.names)
		n.names, n.children, n.value = n.names[:0], n.children[:0], 0
	} else {
		t.nodes = append(t.nodes, extraNode{})
	}
	return int32(len(t.nodes) - 1)
}

// nextSegment splits the first segment off a path made by JoinPath, as
// SplitPath does: the segment, unescaped, the rest after its '.', and
// whether there is a rest (a path ending in '.' ends in an empty
// segment). A segment without escapes is a substring of path.
func (t *extraTree) nextSegment(path string) (seg, rest string, more bool) {
	end := strings.IndexByte(path, '.')
	if end < 0 {
		end = len(path)
	}
	if strings.IndexByte(path[:end], '\\') < 0 {
		if end == len(path) {
			return path, "", false
		}
		return path[:end], path[end+1:], true
	}
	t.seg = t.seg[:0]
	for i := 0; i < len(path); i++ {
		c := path[i]
		switch {
		case c == '\\' && i+1 < len(path):
			i++
			t.seg = append(t.seg, path[i])
		case c == '.':
			return string(t.seg), path[i+1:], true
		default:
			t.seg = append(t.seg, c)
		}
	}
	return string(t.seg), "", false
}

// child returns the child of node n named name, adding it if needed.
func (t *extraTree) child(n int32, name string) int32 {
	for i, c := range t.nodes[n].names {
		if c == name {
			return t.nodes[n].children[i]
		}
	}
	c := t.node()
	t.nodes[n].names = append(t.nodes[n].names, name)
	t.nodes[n].children = append(t.nodes[n].children, c)
	return c
}

func (t *extraTree) appendMap(dst []byte, n int32, leaves []leaf) []byte {
	dst = append(dst, '{')
	for i, name := range t.nodes[n].names {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendJSONString(dst, name)
		dst = append(dst, ':')
		c := &t.nodes[t.nodes[n].children[i]]
		if c.value != 0 && len(c.names) == 0 {
			dst = AppendValueJSON(dst, leaves[c.value-1].v)
			continue
		}
		dst = append(dst, `{"M":`...)
		dst = t.appendMap(dst, t.nodes[n].children[i], leaves)
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// AppendImageJSON appends attrs to dst as a DynamoDB JSON object with the
// flattener's omit and mask rules applied (see Redactor.Value: an
// attribute whose path an omit rule names is left out, one a mask rule
// names is replaced by its mask, as in the row). It is how an image that
// the row does not flatten into columns, the old image of a MODIFY, is
// kept.
func (f *Flattener) AppendImageJSON(dst []byte, attrs []Attr) []byte {
	if f.rules.Empty() {
		return AppendItemJSON(dst, attrs)
	}
	v, _ := f.rules.Value(Value{Kind: M, M: attrs}, nil)
	return AppendItemJSON(dst, v.M)
}
