package flatten

import (
	"math/bits"
	"sort"
	"strings"

	"github.com/ddblake/ddblake/schemas"
)

// Inferrer proposes, for every attribute path of one table, the column
// type that fits every value seen, in every batch folded into it. It is
// what `ddblake infer` declares: unlike Batch.Propose, which types a new
// column from the one batch that creates it (so a price that is an
// integer in the first batch becomes bigint, and its later fractions
// misfit), an Inferrer widens the type as values arrive:
//
//   - N values: bigint while every one is an integer within int64, then
//     decimal(38,s) with s the largest scale seen when the largest integer
//     part still fits in 38-s digits, else string (the exact text);
//   - one DynamoDB kind per path: S string, B binary, BOOL boolean, M past
//     the depth limit json, SS array<string>, BS array<binary>, NS
//     array<number type>;
//   - L: array<T> when every element of every list is a scalar of one
//     kind (the number type widening over all elements), else json;
//   - a path holding values of two kinds (N in one item, S in another;
//     NS and L; ...) is json, which keeps every value as DynamoDB JSON;
//   - a map whose keys, over everything seen, look like data (see
//     DataKey and MapKeysLimit) is one map<string,V> column, V typed like
//     a column over all of its values (json when they differ in kind or
//     are not scalars), and nothing is proposed below it: never a column
//     per user id or emoji.
//
// NULLs, empty lists and empty maps say nothing about a type. Paths
// declared in the Flattener's configuration keep their declared type.
// An Inferrer is not safe for concurrent use: give each goroutine its own
// and Merge them.
type Inferrer struct {
	paths map[string]*pathStats
	maps  map[string]*mapStats // keys and values of the maps the walk flattened, by path
	decl  map[string]mapDecl   // map and flatten declarations seen
}

// mapDecl is a map path's declaration: map (with its type when declared
// map<string,V>), or flatten.
type mapDecl struct {
	flatten bool
	typ     schemas.Type
}

// Inferred is the proposal for one attribute path.
type Inferred struct {
	// Path is the attribute path (segments joined by JoinPath).
	Path string
	// Type fits every value seen; it is the zero Type when no type can be
	// proposed, and Note says why.
	Type schemas.Type
	// Declared is true when the type comes from the configuration.
	Declared bool
	// Values counts the non-null values seen.
	Values int
	// Kinds lists the DynamoDB kinds of the values seen ("N", "N,S").
	Kinds string
	// Note says why Type is zero: only nulls or empty values were seen,
	// or the path holds a map in other items (declaring it would stop
	// those maps from being flattened).
	Note string
}

// Notes of paths without a proposed type.
const (
	NoteOnlyEmpty = "only null or empty values seen"
	NoteAlsoMap   = "holds a map in other items: its other values keep the inferred column"
)

// pathStats is what the values of one path say about its type.
type pathStats struct {
	declared bool
	declType schemas.Type
	values   int
	kinds    uint16 // one bit per Kind of non-null, non-empty values
	elems    uint16 // L: one bit per Kind of the elements
	deepList bool   // L: an element is not S, N, B or BOOL
	nums     numStats
}

// numStats gathers the numbers of a path: N values, NS members and the N
// elements of lists.
type numStats struct {
	count     int
	fraction  bool // a number is not an integer within int64
	maxScale  int
	maxIntDig int
}

// NewInferrer returns an empty Inferrer.
func NewInferrer() *Inferrer {
	return &Inferrer{paths: map[string]*pathStats{}, maps: map[string]*mapStats{}, decl: map[string]mapDecl{}}
}

func (in *Inferrer) stats(path string) *pathStats {
	p, ok := in.paths[path]
	if !ok {
		p = &pathStats{}
		in.paths[path] = p
	}
	return p
}

// Add folds every value of b, as b's Flattener flattened them (omit,
// mask, expand, explode, depth and declared paths applied).
func (in *Inferrer) Add(b *Batch) {
	for i := range b.leaves {
		l := &b.leaves[i]
		p := in.stats(l.path)
		if t, ok := b.f.declared[l.path]; ok {
			p.declared, p.declType = true, t
		}
		p.add(l.v)
	}
	var segs map[string][]string
	for i := range b.spans {
		sp := &b.spans[i]
		m, ok := in.maps[sp.path]
		if !ok {
			m = newMapStats()
			in.maps[sp.path] = m
			if t, ok := b.f.maps[sp.path]; ok {
				in.decl[sp.path] = mapDecl{typ: t}
			} else if b.f.flat[sp.path] {
				in.decl[sp.path] = mapDecl{flatten: true}
			}
		}
		v, _ := b.ruled(b.spanValue(sp), segsOf(&segs, sp.path))
		m.addKeys(v.M)
		for _, e := range v.M {
			m.values.add(e.Value)
		}
	}
}

// Merge folds what o has seen into in.
func (in *Inferrer) Merge(o *Inferrer) {
	for path, q := range o.paths {
		p := in.stats(path)
		if q.declared {
			p.declared, p.declType = true, q.declType
		}
		p.values += q.values
		p.kinds |= q.kinds
		p.elems |= q.elems
		p.deepList = p.deepList || q.deepList
		p.nums.merge(q.nums)
	}
	for path, q := range o.maps {
		if m, ok := in.maps[path]; ok {
			m.merge(q)
		} else {
			m = newMapStats()
			m.merge(q)
			in.maps[path] = m
		}
	}
	for path, d := range o.decl {
		in.decl[path] = d
	}
}

// Len is the number of paths seen.
func (in *Inferrer) Len() int { return len(in.paths) }

// Columns returns the proposal for every path seen, sorted by path: one
// map column for each map kept whole, and nothing for the paths inside
// it.
func (in *Inferrer) Columns() []Inferred {
	mapCols := map[string]bool{}
	for path, m := range in.maps {
		d, declared := in.decl[path]
		switch {
		case declared && d.flatten:
		case declared || m.isMap():
			mapCols[path] = true
		}
	}
	inMap := func(path string) bool { // a proper prefix of path is a map column
		for i := 0; i < len(path); i++ {
			switch path[i] {
			case '\\':
				i++
			case '.':
				if mapCols[path[:i]] {
					return true
				}
			}
		}
		return false
	}
	paths := make([]string, 0, len(in.paths)+len(mapCols))
	parents := map[string]bool{}
	for p := range in.paths {
		if inMap(p) {
			continue
		}
		if !mapCols[p] {
			paths = append(paths, p)
		}
		for i := 0; i < len(p); i++ {
			switch p[i] {
			case '\\':
				i++
			case '.':
				parents[p[:i]] = true
			}
		}
	}
	for p := range mapCols {
		if !inMap(p) {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	out := make([]Inferred, 0, len(paths))
	for _, path := range paths {
		if mapCols[path] {
			out = append(out, in.mapColumn(path))
			continue
		}
		p := in.paths[path]
		c := Inferred{Path: path, Values: p.values, Kinds: kindList(p.kinds), Declared: p.declared}
		switch {
		case p.declared:
			c.Type = p.declType
		case parents[path] && p.kinds != 0:
			c.Note = NoteAlsoMap
		default:
			c.Type = p.typ()
			if c.Type.Kind == schemas.KindInvalid {
				c.Note = NoteOnlyEmpty
			}
		}
		out = append(out, c)
	}
	return out
}

// mapColumn is the proposal for a map kept whole.
func (in *Inferrer) mapColumn(path string) Inferred {
	m := in.maps[path]
	c := Inferred{Path: path, Values: m.maps, Kinds: M.String()}
	if p, ok := in.paths[path]; ok { // other values at the path: they will misfit
		c.Values += p.values
		c.Kinds = kindList(p.kinds | 1<<M)
	}
	if d, ok := in.decl[path]; ok && d.typ.Kind != schemas.KindInvalid {
		c.Type, c.Declared = d.typ, true
		return c
	}
	if t := m.values.typ(); t.Kind != schemas.KindInvalid {
		c.Type = schemas.MapOf(t)
	} else {
		c.Note = NoteOnlyEmpty
	}
	return c
}

func (p *pathStats) add(v Value) {
	switch v.Kind {
	case NULL:
		return
	case M:
		if len(v.M) == 0 {
			return
		}
	case L:
		if len(v.L) == 0 {
			return
		}
	}
	p.values++
	p.kinds |= 1 << v.Kind
	switch v.Kind {
	case N:
		p.nums.add(v.S)
	case NS:
		for _, e := range v.L {
			p.nums.add(e.S)
		}
	case L:
		for _, e := range v.L {
			switch e.Kind {
			case S, B, BOOL:
			case N:
				p.nums.add(e.S)
			default:
				p.deepList = true
			}
			p.elems |= 1 << e.Kind
		}
	}
}

// typ is the type that fits every value; the zero Type when none was seen.
func (p *pathStats) typ() schemas.Type {
	if bits.OnesCount16(p.kinds) > 1 {
		return schemas.JSON
	}
	switch Kind(bits.TrailingZeros16(p.kinds)) {
	case S:
		return schemas.String
	case B:
		return schemas.Binary
	case BOOL:
		return schemas.Boolean
	case M:
		return schemas.JSON
	case N:
		return p.nums.typ()
	case SS:
		return schemas.ArrayOf(schemas.String)
	case BS:
		return schemas.ArrayOf(schemas.Binary)
	case NS:
		return schemas.ArrayOf(p.nums.typ())
	case L:
		if p.deepList || bits.OnesCount16(p.elems) != 1 {
			return schemas.JSON
		}
		switch Kind(bits.TrailingZeros16(p.elems)) {
		case S:
			return schemas.ArrayOf(schemas.String)
		case B:
			return schemas.ArrayOf(schemas.Binary)
		case BOOL:
			return schemas.ArrayOf(schemas.Boolean)
		case N:
			if t := p.nums.typ(); t.Kind != schemas.KindString {
				return schemas.ArrayOf(t)
			}
			return schemas.JSON // too wide for decimal: exact as JSON, as Propose does
		}
	}
	return schemas.Type{}
}

func (n *numStats) add(text string) {
	num, err := ParseNumber(text)
	if err != nil {
		return // parsed items hold only valid numbers
	}
	n.count++
	if _, ok := num.Int64(); !ok {
		n.fraction = true
	}
	n.maxScale = max(n.maxScale, num.FracDigits())
	n.maxIntDig = max(n.maxIntDig, num.IntDigits())
}

func (n *numStats) merge(o numStats) {
	n.count += o.count
	n.fraction = n.fraction || o.fraction
	n.maxScale = max(n.maxScale, o.maxScale)
	n.maxIntDig = max(n.maxIntDig, o.maxIntDig)
}

// typ is bigint, decimal(38,s) or string: the narrowest that holds every
// number seen exactly.
func (n numStats) typ() schemas.Type {
	switch {
	case !n.fraction:
		return schemas.Bigint
	case n.maxIntDig+n.maxScale <= schemas.MaxDecimalPrecision:
		return schemas.Decimal(schemas.MaxDecimalPrecision, n.maxScale)
	}
	return schemas.String
}

// kindList spells a set of kinds as "N,S" (in Kind order).
func kindList(set uint16) string {
	var names []string
	for k := S; k <= BS; k++ {
		if set&(1<<k) != 0 {
			names = append(names, k.String())
		}
	}
	return strings.Join(names, ",")
}
