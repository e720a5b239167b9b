package redact

import (
	"github.com/valyala/fastjson"
)

// Kinds of JSON nodes.
const (
	kindObject = iota + 1
	kindArray
	kindString
	kindNumber
	kindLiteral
)

// maxNesting bounds the containers a document may nest; deeper is read
// as broken.
const maxNesting = 1000

// node is one JSON value of a document, with its place in the input so
// that untouched parts are copied byte for byte. A document that breaks
// off leaves its containers incomplete, holding the members and elements
// read whole before the break.
type node struct {
	kind     int
	start    int // offset of the value's first byte
	end      int // offset after its last byte (where reading stopped, when incomplete)
	complete bool
	members  []member // objects
	elems    []elem   // arrays

	replace []byte // when set, written instead of the node
	dirty   bool   // an edit was made inside the node
}

// member is one name and value of an object.
type member struct {
	key      string // the name, unescaped as fastjson does
	keyStart int    // offset of the name's opening quote
	valStart int    // offset of the value
	val      *node
	drop     bool
}

// elem is one element of an array.
type elem struct {
	val  *node
	drop bool
}

// doc is a parsed document: its bytes, its root (nil when nothing could
// be read), and where it stopped being valid JSON (-1 when it is valid).
type doc struct {
	b      []byte
	root   *node
	broken int
}

// parse reads b as JSON as far as it is valid. It never fails: a document
// that is not valid JSON to its end has broken set to the offset of the
// first byte that could not be read, and keeps what was read before.
func parse(b []byte) *doc {
	p := &parser{b: b, broken: -1}
	root := p.value(0)
	if p.broken < 0 {
		p.ws()
		if p.pos < len(b) {
			p.fail() // bytes after the document
		}
	}
	if root != nil && !root.complete && root.kind != kindObject && root.kind != kindArray {
		root = nil // a scalar cut short holds nothing to keep
	}
	return &doc{b: b, root: root, broken: p.broken}
}

type parser struct {
	b      []byte
	pos    int
	broken int
	keys   fastjson.Parser
}

func (p *parser) fail() {
	if p.broken < 0 {
		p.broken = p.pos
	}
}

func (p *parser) ws() {
	for p.pos < len(p.b) {
		switch p.b[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// value reads one value at p.pos (after white space); nil when none
// starts there.
func (p *parser) value(depth int) *node {
	p.ws()
	if p.pos >= len(p.b) {
		p.fail()
		return nil
	}
	switch c := p.b[p.pos]; {
	case c == '{' || c == '[':
		if depth >= maxNesting {
			p.fail()
			return nil
		}
		if c == '{' {
			return p.object(depth)
		}
		return p.array(depth)
	case c == '"':
		return p.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	}
	p.fail()
	return nil
}

func (p *parser) object(depth int) *node {
	n := &node{kind: kindObject, start: p.pos}
	p.pos++ // {
	p.ws()
	if p.pos < len(p.b) && p.b[p.pos] == '}' {
		p.pos++
		n.end, n.complete = p.pos, true
		return n
	}
	for {
		p.ws()
		keyStart := p.pos
		if p.pos >= len(p.b) || p.b[p.pos] != '"' {
			break
		}
		k := p.str()
		if !k.complete {
			break
		}
		p.ws()
		if p.pos >= len(p.b) || p.b[p.pos] != ':' {
			p.fail()
			break
		}
		p.pos++
		p.ws()
		valStart := p.pos
		v := p.value(depth + 1)
		if v == nil {
			break
		}
		n.members = append(n.members, member{key: p.key(keyStart, k.end), keyStart: keyStart, valStart: valStart, val: v})
		if !v.complete {
			break
		}
		p.ws()
		if p.pos < len(p.b) && p.b[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.pos < len(p.b) && p.b[p.pos] == '}' {
			p.pos++
			n.end, n.complete = p.pos, true
			return n
		}
		break
	}
	p.fail()
	n.end = p.pos
	return n
}

func (p *parser) array(depth int) *node {
	n := &node{kind: kindArray, start: p.pos}
	p.pos++ // [
	p.ws()
	if p.pos < len(p.b) && p.b[p.pos] == ']' {
		p.pos++
		n.end, n.complete = p.pos, true
		return n
	}
	for {
		v := p.value(depth + 1)
		if v == nil {
			break
		}
		n.elems = append(n.elems, elem{val: v})
		if !v.complete {
			break
		}
		p.ws()
		if p.pos < len(p.b) && p.b[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.pos < len(p.b) && p.b[p.pos] == ']' {
			p.pos++
			n.end, n.complete = p.pos, true
			return n
		}
		break
	}
	p.fail()
	n.end = p.pos
	return n
}

// str reads a string; an incomplete node when it breaks off or holds a
// control character or a bad escape.
func (p *parser) str() *node {
	n := &node{kind: kindString, start: p.pos}
	p.pos++ // "
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		switch {
		case c == '"':
			p.pos++
			n.end, n.complete = p.pos, true
			return n
		case c < 0x20:
			p.fail()
			n.end = p.pos
			return n
		case c == '\\':
			if p.pos+1 >= len(p.b) {
				p.pos = len(p.b)
				break
			}
			switch p.b[p.pos+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.pos += 2
			case 'u':
				if p.pos+6 > len(p.b) || !hex4(p.b[p.pos+2:p.pos+6]) {
					p.fail()
					n.end = p.pos
					return n
				}
				p.pos += 6
			default:
				p.fail()
				n.end = p.pos
				return n
			}
		default:
			p.pos++
		}
	}
	p.fail()
	n.end = p.pos
	return n
}

func hex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// number reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?.
func (p *parser) number() *node {
	n := &node{kind: kindNumber, start: p.pos}
	b := p.b
	i := p.pos
	if b[i] == '-' {
		i++
	}
	digits := func() bool {
		s := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > s
	}
	ok := true
	switch {
	case i < len(b) && b[i] == '0':
		i++
	default:
		ok = digits()
	}
	if ok && i < len(b) && b[i] == '.' {
		i++
		ok = digits()
	}
	if ok && i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		ok = digits()
	}
	p.pos = i
	n.end = i
	if !ok {
		p.fail()
		return n
	}
	n.complete = true
	return n
}

func (p *parser) literal(word string) *node {
	n := &node{kind: kindLiteral, start: p.pos}
	if len(p.b)-p.pos >= len(word) && string(p.b[p.pos:p.pos+len(word)]) == word {
		p.pos += len(word)
		n.end, n.complete = p.pos, true
		return n
	}
	p.fail()
	n.end = p.pos
	return n
}

// key returns the name whose string spans b[start:end], unescaped as
// fastjson unescapes the names the decoders see.
func (p *parser) key(start, end int) string {
	v, err := p.keys.ParseBytes(p.b[start:end])
	if err != nil {
		return string(p.b[start+1 : end-1])
	}
	s, _ := v.StringBytes()
	return string(s)
}

// text returns the string a complete string node holds, unescaped.
func text(b []byte, n *node) (string, bool) {
	if n.kind != kindString || !n.complete {
		return "", false
	}
	var fp fastjson.Parser
	v, err := fp.ParseBytes(b[n.start:n.end])
	if err != nil {
		return "", false
	}
	s, err := v.StringBytes()
	if err != nil {
		return "", false
	}
	return string(s), true
}

// emit appends the document with its edits: untouched complete values as
// they were read, edited and incomplete containers rewritten (members
// separated by ","), values cut short left out.
func (d *doc) emit(dst []byte, n *node) []byte {
	switch {
	case n.replace != nil:
		return append(dst, n.replace...)
	case n.complete && !n.dirty:
		return append(dst, d.b[n.start:n.end]...)
	}
	kept := func(v *node) bool {
		return v != nil && (v.complete || v.replace != nil || v.kind == kindObject || v.kind == kindArray)
	}
	switch n.kind {
	case kindObject:
		dst = append(dst, '{')
		first := true
		for _, m := range n.members {
			if m.drop || !kept(m.val) {
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = append(dst, d.b[m.keyStart:m.valStart]...)
			dst = d.emit(dst, m.val)
		}
		return append(dst, '}')
	case kindArray:
		dst = append(dst, '[')
		first := true
		for _, e := range n.elems {
			if e.drop || !kept(e.val) {
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = d.emit(dst, e.val)
		}
		return append(dst, ']')
	}
	return dst // a scalar cut short: nothing
}
