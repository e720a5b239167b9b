package decode

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/ddblake/ddblake/flatten"
)

// The fast path reads a record's bytes once, from its first byte to its
// last, into a ChangeRecord whose images are flatten.Items built as their
// JSON is read: no parse tree, no Attr or Value. It accepts a record only
// when it is sure that the parser path (fastjson, then ParseItem and the
// checks of decodeElement) accepts it too and reads the same record from
// it; for anything else (a record that may be bad, or one of the rare
// shapes it leaves to the parser: an escape in a key, a record over
// 400 KB, a number written in a way JSON does not allow...) it reports
// false and the parser path decodes the record, with its errors. So the
// two paths give the same records and the same errors; the fast one is
// the common case's speed.

// fastMaxDepth bounds the JSON nesting the fast path reads (the parser
// allows 300); deeper records are left to the parser.
const fastMaxDepth = 100

// escChunkBytes is the size of the chunks unescaped strings are cut from.
const escChunkBytes = 32 << 10

// fastReader reads JSON text for the fast path. Strings without escapes
// are views of src; unescaped ones are cut from chunks that are never
// written again once handed out, so the Items built share either src's
// memory or memory of their own.
type fastReader struct {
	src   []byte
	esc   []byte    // the chunk unescaped strings are cut from
	names nameCache // interned attribute names
	items flatten.ItemBuilder
	keys  [][]byte              // names of the maps being read, for duplicate checks
	sets  []map[string]struct{} // by depth: the names of a map of many
	b64   []byte                // scratch memory of base64 checks
}

// release drops the reader's references to the input it read, so that
// a decoder kept between inputs does not keep their memory.
func (r *fastReader) release() {
	r.src = nil
	clear(r.keys[:cap(r.keys)])
	r.keys = r.keys[:0]
}

// skipWS returns the offset of the first byte at or after i that is not
// JSON white space.
func skipWS(src []byte, i int) int {
	for i < len(src) {
		switch src[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// str reads the string whose opening quote is src[i]: its text,
// unescaped, and the offset after its closing quote. It fails on an
// escape that CheckEscapes refuses.
func (r *fastReader) str(i int) ([]byte, int, bool) {
	src := r.src
	j := i + 1
	k := quoteOrEscape(src, j)
	switch {
	case k >= len(src):
		return nil, 0, false
	case src[k] == '"':
		return src[j:k], k + 1, true
	}
	return r.unescape(j)
}

// Eight bytes at a time (SWAR): the bytes of a word, and its bytes that
// are zero.
const (
	swarLow  = 0x0101010101010101
	swarHigh = 0x8080808080808080
)

// zeroBytes marks the zero bytes of x with their high bit (the lowest
// mark is exact; marks above it may be false).
func zeroBytes(x uint64) uint64 { return (x - swarLow) &^ x & swarHigh }

// quoteOrEscape returns the offset of the first '"' or '\\' at or after
// j, or len(src).
func quoteOrEscape(src []byte, j int) int {
	for ; j+8 <= len(src); j += 8 {
		x := binary.LittleEndian.Uint64(src[j:])
		if m := zeroBytes(x^(swarLow*'"')) | zeroBytes(x^(swarLow*'\\')); m != 0 {
			return j + bits.TrailingZeros64(m)/8
		}
	}
	for ; j < len(src); j++ {
		if c := src[j]; c == '"' || c == '\\' {
			return j
		}
	}
	return len(src)
}

// unescape reads the string whose text starts at src[j] and holds an
// escape, into r.esc.
func (r *fastReader) unescape(j int) ([]byte, int, bool) {
	src := r.src
	if len(r.esc) > escChunkBytes-256 || r.esc == nil {
		r.esc = make([]byte, 0, escChunkBytes)
	}
	start := len(r.esc)
	for {
		k := quoteOrEscape(src, j)
		if k >= len(src) {
			r.esc = r.esc[:start]
			return nil, 0, false
		}
		r.esc = append(r.esc, src[j:k]...)
		if src[k] == '"' {
			end := len(r.esc)
			return r.esc[start:end:end], k + 1, true
		}
		n, ok := r.appendEscape(src[k:])
		if !ok {
			r.esc = r.esc[:start]
			return nil, 0, false
		}
		j = k + n
	}
}

// appendEscape appends to r.esc what the escape at the start of b stands
// for, as the parser unescapes it, and returns its length; it fails
// where CheckEscapes does.
func (r *fastReader) appendEscape(b []byte) (int, bool) {
	if len(b) < 2 {
		return 0, false
	}
	var c byte
	switch b[1] {
	case '"', '\\', '/':
		c = b[1]
	case 'b':
		c = '\b'
	case 'f':
		c = '\f'
	case 'n':
		c = '\n'
	case 'r':
		c = '\r'
	case 't':
		c = '\t'
	case 'u':
		x, ok := hex4(b[2:])
		if !ok {
			return 0, false
		}
		if x < 0xD800 || x > 0xDFFF {
			r.esc = utf8.AppendRune(r.esc, rune(x))
			return 6, true
		}
		if x >= 0xDC00 || len(b) < 12 || b[6] != '\\' || b[7] != 'u' {
			return 0, false
		}
		y, ok := hex4(b[8:])
		if !ok || y < 0xDC00 || y > 0xDFFF {
			return 0, false
		}
		r.esc = utf8.AppendRune(r.esc, utf16.DecodeRune(rune(x), rune(y)))
		return 12, true
	default:
		return 0, false
	}
	r.esc = append(r.esc, c)
	return 2, true
}

// hex4 reads four hex digits.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	x, ok := flatten.HexDigits(b[:4])
	return rune(x), ok
}

// skipStr moves past the string whose opening quote is src[i], checking
// its escapes.
func (r *fastReader) skipStr(i int) (int, bool) {
	src := r.src
	j := i + 1
	for {
		q := bytes.IndexByte(src[j:], '"')
		if q < 0 {
			return 0, false
		}
		q += j
		k := q - 1
		for src[k] == '\\' {
			k--
		}
		if (q-1-k)%2 == 0 { // not escaped
			if seg := src[i+1 : q]; bytes.IndexByte(seg, '\\') >= 0 && flatten.CheckEscapes(seg) != nil {
				return 0, false
			}
			return q + 1, true
		}
		j = q + 1
	}
}

// number moves past the JSON number at src[i].
func number(src []byte, i int) (int, bool) {
	j := i
	if j < len(src) && src[j] == '-' {
		j++
	}
	if j >= len(src) {
		return 0, false
	}
	switch c := src[j]; {
	case c == '0':
		j++
	case c >= '1' && c <= '9':
		j = digits(src, j+1)
	default:
		return 0, false
	}
	if j < len(src) && src[j] == '.' {
		d := digits(src, j+1)
		if d == j+1 {
			return 0, false
		}
		j = d
	}
	if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
		j++
		if j < len(src) && (src[j] == '+' || src[j] == '-') {
			j++
		}
		d := digits(src, j)
		if d == j {
			return 0, false
		}
		j = d
	}
	return j, true
}

func digits(src []byte, j int) int {
	for j < len(src) && src[j] >= '0' && src[j] <= '9' {
		j++
	}
	return j
}

// literal moves past the literal word at src[i].
func literal(src []byte, i int, word string) (int, bool) {
	if len(src)-i < len(word) || string(src[i:i+len(word)]) != word {
		return 0, false
	}
	return i + len(word), true
}

// skip moves past the JSON value at src[i], checking it, at nesting
// depth (the record's own object is 1).
func (r *fastReader) skip(i, depth int) (int, bool) {
	src := r.src
	if i >= len(src) {
		return 0, false
	}
	switch src[i] {
	case '"':
		return r.skipStr(i)
	case '{':
		if depth >= fastMaxDepth {
			return 0, false
		}
		i = skipWS(src, i+1)
		if i < len(src) && src[i] == '}' {
			return i + 1, true
		}
		for {
			if i >= len(src) || src[i] != '"' {
				return 0, false
			}
			var ok bool
			if i, ok = r.skipStr(i); !ok {
				return 0, false
			}
			if i = skipWS(src, i); i >= len(src) || src[i] != ':' {
				return 0, false
			}
			if i, ok = r.skip(skipWS(src, i+1), depth+1); !ok {
				return 0, false
			}
			next, done, ok := after(src, i, '}')
			if !ok || done {
				return next, ok
			}
			i = next
		}
	case '[':
		if depth >= fastMaxDepth {
			return 0, false
		}
		i = skipWS(src, i+1)
		if i < len(src) && src[i] == ']' {
			return i + 1, true
		}
		for {
			var ok bool
			if i, ok = r.skip(i, depth+1); !ok {
				return 0, false
			}
			next, done, ok := after(src, i, ']')
			if !ok || done {
				return next, ok
			}
			i = next
		}
	case 't':
		return literal(src, i, "true")
	case 'f':
		return literal(src, i, "false")
	case 'n':
		return literal(src, i, "null")
	}
	return number(src, i)
}

// viewString returns b as a string sharing its memory.
func viewString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// nameCache interns attribute names, which repeat from item to item: a
// table of names by a hash of their bytes, each slot holding the last
// name that hashed to it. A name found there was checked (UTF-8, length)
// when it was put there.
type nameCache struct {
	slots []string
}

// Bounds of the names a nameCache keeps.
const (
	nameCacheSlots  = 1 << 12
	nameCacheMaxLen = 64
)

// hashName is a hash of b (from its length and its first and last eight
// bytes: enough to tell attribute names apart).
func hashName(b []byte) uint32 {
	var x uint64
	if len(b) >= 8 {
		x = binary.LittleEndian.Uint64(b) ^ bits.RotateLeft64(binary.LittleEndian.Uint64(b[len(b)-8:]), 29)
	} else {
		for i, c := range b {
			x |= uint64(c) << (8 * i)
		}
	}
	x = (x ^ uint64(len(b))) * 0x9E3779B97F4A7C15
	return uint32(x >> 32)
}

// lookup returns the name b hashed to h when the cache holds it.
func (c *nameCache) lookup(b []byte, h uint32) (string, bool) {
	if c.slots == nil || len(b) == 0 || len(b) > nameCacheMaxLen {
		return "", false
	}
	s := c.slots[h&(nameCacheSlots-1)]
	return s, len(s) == len(b) && s == string(b)
}

// add returns b as a string of its own memory, kept when short.
func (c *nameCache) add(b []byte, h uint32) string {
	s := string(b)
	if len(b) <= nameCacheMaxLen {
		if c.slots == nil {
			c.slots = make([]string, nameCacheSlots)
		}
		c.slots[h&(nameCacheSlots-1)] = s
	}
	return s
}

// item reads the DynamoDB JSON item (an object of attributes) at src[i],
// built into an Item when build is set, else only checked as ParseItem
// would read it.
func (r *fastReader) item(i int, build bool) (flatten.Item, int, bool) {
	if build {
		r.items.Begin()
	}
	end, ok := r.attrs(i, 1, build)
	if !ok {
		if build {
			r.items.Discard()
		}
		return flatten.Item{}, 0, false
	}
	if !build {
		return flatten.Item{}, end, true
	}
	return r.items.Item(), end, true
}

// maxLinearNames is the size of map whose names are checked for
// duplicates one against the other; larger ones use a set.
const maxLinearNames = 32

// attrs reads an object of attributes at src[i]: an item (depth 1), or
// the value of an M (at its depth + 1).
func (r *fastReader) attrs(i, depth int, build bool) (int, bool) {
	src := r.src
	if i >= len(src) || src[i] != '{' {
		return 0, false
	}
	i = skipWS(src, i+1)
	if i < len(src) && src[i] == '}' {
		return i + 1, true
	}
	mark := len(r.keys)
	end, ok := r.attrList(i, depth, build, mark)
	r.keys = r.keys[:mark]
	if len(r.sets) > depth && r.sets[depth] != nil {
		clear(r.sets[depth])
	}
	return end, ok
}

func (r *fastReader) attrList(i, depth int, build bool, mark int) (int, bool) {
	src := r.src
	var bloom uint64 // a bit per name read, by its hash
	for {
		if i >= len(src) || src[i] != '"' {
			return 0, false
		}
		j := i + 1
		q := quoteOrEscape(src, j)
		if q >= len(src) || src[q] != '"' {
			return 0, false // an escaped name is left to the parser
		}
		name := src[j:q]
		h := hashName(name)
		nm, known := r.names.lookup(name, h)
		if !known {
			if len(name) == 0 || len(name) > flatten.MaxNameBytes || !utf8.Valid(name) {
				return 0, false
			}
			if build {
				nm = r.names.add(name, h)
			}
		}
		bit := uint64(1) << (h >> 26)
		if r.seen(name, depth, mark, bloom&bit != 0) {
			return 0, false
		}
		bloom |= bit
		if i = skipWS(src, q+1); i >= len(src) || src[i] != ':' {
			return 0, false
		}
		var ok bool
		if i, ok = r.value(skipWS(src, i+1), depth, build, nm); !ok {
			return 0, false
		}
		next, done, ok := after(src, i, '}')
		if !ok || done {
			return next, ok
		}
		i = next
	}
}

// seen reports whether name was read before in the map being read
// (whose names are r.keys[mark:]), and notes it. maybe is false when the
// name's hash says it was not.
func (r *fastReader) seen(name []byte, depth, mark int, maybe bool) bool {
	names := r.keys[mark:]
	if len(names) < maxLinearNames {
		if maybe {
			for _, k := range names {
				if string(k) == string(name) {
					return true
				}
			}
		}
		r.keys = append(r.keys, name)
		return false
	}
	for len(r.sets) <= depth {
		r.sets = append(r.sets, nil)
	}
	set := r.sets[depth]
	if set == nil {
		set = make(map[string]struct{})
		r.sets[depth] = set
	}
	if len(set) == 0 {
		for _, k := range names {
			set[string(k)] = struct{}{}
		}
	}
	if _, dup := set[string(name)]; dup {
		return true
	}
	set[string(name)] = struct{}{}
	r.keys = append(r.keys, name)
	return false
}

// tagAt reads the type tag that starts at src[j] (after its opening
// quote): its kind and the offset after its closing quote, or
// KindInvalid.
func tagAt(src []byte, j int) (flatten.Kind, int) {
	for n := j; n < len(src) && n < j+5; n++ {
		if src[n] == '"' {
			if k, ok := tagKind(src[j:n]); ok {
				return k, n + 1
			}
			break
		}
	}
	return flatten.KindInvalid, 0
}

// tagKind returns the kind of a type tag.
func tagKind(tag []byte) (flatten.Kind, bool) {
	switch string(tag) {
	case "S":
		return flatten.S, true
	case "N":
		return flatten.N, true
	case "B":
		return flatten.B, true
	case "BOOL":
		return flatten.BOOL, true
	case "NULL":
		return flatten.NULL, true
	case "M":
		return flatten.M, true
	case "L":
		return flatten.L, true
	case "SS":
		return flatten.SS, true
	case "NS":
		return flatten.NS, true
	case "BS":
		return flatten.BS, true
	}
	return flatten.KindInvalid, false
}

// oneLetterTag is the kind of each one-letter type tag, by its letter;
// KindInvalid for other bytes.
var oneLetterTag = func() (t [256]flatten.Kind) {
	for i := range t {
		t[i] = flatten.KindInvalid
	}
	for _, k := range []flatten.Kind{flatten.S, flatten.N, flatten.B, flatten.M, flatten.L} {
		t[k.String()[0]] = k
	}
	return t
}()

// value reads an attribute value ({"S":"x"}) at src[i], at depth.
func (r *fastReader) value(i, depth int, build bool, name string) (int, bool) {
	src := r.src
	if depth > flatten.MaxDepth || i >= len(src) || src[i] != '{' {
		return 0, false
	}
	// The compact form of a one-letter tag, {"S":, read at once; any
	// other is read piece by piece.
	kind := flatten.KindInvalid
	if i+5 < len(src) && src[i+1] == '"' && src[i+3] == '"' && src[i+4] == ':' {
		kind = oneLetterTag[src[i+2]]
	}
	if kind != flatten.KindInvalid {
		i += 5
	} else {
		if i = skipWS(src, i+1); i >= len(src) || src[i] != '"' {
			return 0, false
		}
		var q int
		if kind, q = tagAt(src, i+1); kind == flatten.KindInvalid {
			return 0, false
		}
		if i = skipWS(src, q); i >= len(src) || src[i] != ':' {
			return 0, false
		}
		i++
	}
	if i = skipWS(src, i); i >= len(src) {
		return 0, false
	}
	var ok bool
	switch kind {
	case flatten.S, flatten.N, flatten.B:
		if src[i] != '"' {
			return 0, false
		}
		var s []byte
		if s, i, ok = r.str(i); !ok || !r.scalarOK(kind, s) {
			return 0, false
		}
		if build {
			r.items.Text(name, kind, viewString(s))
		}
	case flatten.BOOL:
		v := src[i] == 't'
		if v {
			i, ok = literal(src, i, "true")
		} else {
			i, ok = literal(src, i, "false")
		}
		if !ok {
			return 0, false
		}
		if build {
			r.items.Bool(name, v)
		}
	case flatten.NULL:
		if i, ok = literal(src, i, "true"); !ok {
			return 0, false
		}
		if build {
			r.items.Null(name)
		}
	case flatten.M:
		if build {
			r.items.Open(name, flatten.M)
		}
		if i, ok = r.attrs(i, depth+1, build); !ok {
			return 0, false
		}
		if build {
			r.items.Close()
		}
	default: // L and sets
		if src[i] != '[' {
			return 0, false
		}
		if build {
			r.items.Open(name, kind)
		}
		if i, ok = r.members(skipWS(src, i+1), kind, depth, build); !ok {
			return 0, false
		}
		if build {
			r.items.Close()
		}
	}
	if i = skipWS(src, i); i >= len(src) || src[i] != '}' {
		return 0, false // more than one type
	}
	return i + 1, true
}

// members reads the elements of an L or the members of a set, from after
// its '['.
func (r *fastReader) members(i int, kind flatten.Kind, depth int, build bool) (int, bool) {
	src := r.src
	if i < len(src) && src[i] == ']' {
		return i + 1, kind == flatten.L // a set is never empty
	}
	member := flatten.S
	switch kind {
	case flatten.NS:
		member = flatten.N
	case flatten.BS:
		member = flatten.B
	}
	for {
		var ok bool
		if kind == flatten.L {
			if i, ok = r.value(i, depth+1, build, ""); !ok {
				return 0, false
			}
		} else {
			if i >= len(src) || src[i] != '"' {
				return 0, false
			}
			var s []byte
			if s, i, ok = r.str(i); !ok || !r.scalarOK(member, s) {
				return 0, false
			}
			if build {
				r.items.Text("", member, viewString(s))
			}
		}
		next, done, ok := after(src, i, ']')
		if !ok || done {
			return next, ok
		}
		i = next
	}
}

// plainDigits reports whether s is 1 to 38 decimal digits and nothing
// else: a number DynamoDB holds (38 significant digits at most, far
// inside its range), told in one pass.
func plainDigits(s []byte) bool {
	if len(s) == 0 || len(s) > 38 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// scalarOK checks the text of an S (UTF-8), N (a number DynamoDB holds)
// or B (base64, padded or not) as ParseItem does.
func (r *fastReader) scalarOK(kind flatten.Kind, s []byte) bool {
	switch kind {
	case flatten.S:
		return utf8.Valid(s)
	case flatten.N:
		return plainDigits(s) || flatten.ValidNumber(s)
	}
	n := base64.RawStdEncoding.DecodedLen(len(s)) + 2
	if cap(r.b64) < n {
		r.b64 = make([]byte, n)
	}
	out := r.b64[:n]
	if _, err := base64.StdEncoding.Decode(out, s); err != nil {
		if _, err := base64.RawStdEncoding.Decode(out, s); err != nil {
			return false
		}
	}
	return true
}

// after reads what follows a member of an object or an element of an
// array that ends in end: a comma, then next is where the next one
// starts; or end, then done and next is past it. Anything else is not
// JSON (ok false).
func after(src []byte, i int, end byte) (next int, done, ok bool) {
	if i = skipWS(src, i); i >= len(src) {
		return 0, false, false
	}
	switch src[i] {
	case ',':
		return skipWS(src, i+1), false, true
	case end:
		return i + 1, true, true
	}
	return 0, false, false
}
