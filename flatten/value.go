package flatten

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// Kind is a DynamoDB attribute value type tag.
type Kind uint8

// DynamoDB attribute value kinds.
const (
	KindInvalid Kind = iota
	S
	N
	B
	BOOL
	NULL
	M
	L
	SS
	NS
	BS
)

var kindNames = [...]string{"", "S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"}

// String returns the DynamoDB type tag ("S", "N", ...).
func (k Kind) String() string {
	if int(k) < len(kindNames) && k != KindInvalid {
		return kindNames[k]
	}
	return "invalid"
}

// KindOf returns the kind named by a DynamoDB type tag.
func KindOf(tag string) (Kind, bool) {
	return kindOfBytes([]byte(tag))
}

func kindOfBytes(tag []byte) (Kind, bool) {
	switch string(tag) { // no allocation: the compiler compares in place
	case "S":
		return S, true
	case "N":
		return N, true
	case "B":
		return B, true
	case "BOOL":
		return BOOL, true
	case "NULL":
		return NULL, true
	case "M":
		return M, true
	case "L":
		return L, true
	case "SS":
		return SS, true
	case "NS":
		return NS, true
	case "BS":
		return BS, true
	}
	return KindInvalid, false
}

// MaxDepth is DynamoDB's nesting limit for attribute values.
const MaxDepth = 32

// MaxNameBytes is the longest attribute name DynamoDB accepts: names are
// at least one byte and less than 64 KB.
const MaxNameBytes = 64<<10 - 1

// Value is one DynamoDB attribute value. Exactly the fields of its Kind are
// set: S for S and N (the number's text as given), B for B, Bool for BOOL,
// L for L and the members of SS, NS and BS (as S, N and B values), M for M.
type Value struct {
	Kind Kind
	S    string
	B    []byte
	Bool bool
	L    []Value
	M    []Attr
}

// Attr is a named attribute value. Items and maps are []Attr in input order.
type Attr struct {
	Name  string
	Value Value
}

// Scalar reports whether v is S, N, B, BOOL or NULL.
func (v Value) Scalar() bool { return v.Kind >= S && v.Kind <= NULL }

// JoinPath appends segment to path: segments are joined with '.', and a
// '.' or '\' inside a segment is escaped with '\', so that any attribute
// name survives the round trip through SplitPath.
func JoinPath(path, segment string) string {
	if !strings.ContainsAny(segment, `.\`) {
		if path == "" {
			return segment
		}
		return path + "." + segment
	}
	var b strings.Builder
	b.Grow(len(path) + len(segment) + 4)
	if path != "" {
		b.WriteString(path)
		b.WriteByte('.')
	}
	for i := 0; i < len(segment); i++ {
		if c := segment[i]; c == '.' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(segment[i])
	}
	return b.String()
}

// SplitPath splits a path made by JoinPath into its segments.
func SplitPath(path string) []string {
	var segs []string
	var cur strings.Builder
	for i := 0; i < len(path); i++ {
		c := path[i]
		switch {
		case c == '\\' && i+1 < len(path):
			i++
			cur.WriteByte(path[i])
		case c == '.':
			segs = append(segs, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(segs, cur.String())
}

// ParseItemBytes parses a DynamoDB JSON item: an object mapping attribute
// names to attribute values.
func ParseItemBytes(b []byte) ([]Attr, error) {
	var p fastjson.Parser
	v, err := p.ParseBytes(b)
	if err != nil {
		return nil, &AttrError{Err: fmt.Errorf("%w: %v", ErrBadJSON, err)}
	}
	return ParseItem(v)
}

// ParseItem reads a DynamoDB JSON item from a parsed JSON object. The
// result does not refer to v's memory. Errors are *AttrError naming the
// attribute path.
func ParseItem(v *fastjson.Value) ([]Attr, error) {
	var p attrParser
	return p.parseMap(v, 1)
}

// ParseValue reads one DynamoDB JSON attribute value such as {"S":"x"}.
func ParseValue(v *fastjson.Value) (Value, error) {
	var p attrParser
	return p.parseValue(v, 1)
}

// ItemParser reads DynamoDB JSON items like ParseItem, and remembers the
// attribute names it has seen, so that names, which repeat from item to
// item, are allocated once. (Values are not interned: hashing them costs
// more than allocating them.) Keep
// one per goroutine; it is not safe for concurrent use.
type ItemParser struct {
	p attrParser
}

// ParseItem reads a DynamoDB JSON item; see the function ParseItem.
func (ip *ItemParser) ParseItem(v *fastjson.Value) ([]Attr, error) {
	if ip.p.strs == nil {
		ip.p.strs = make(map[string]string, 256)
	}
	ip.p.segs = ip.p.segs[:0]
	ip.p.check = false
	return ip.p.parseMap(v, 1)
}

// CheckItem reports the error ParseItem would return for v, without
// building the attributes: for an image that no row uses (the OldImage of
// a record that has a NewImage), so that a bad one is still refused as
// before, at a fraction of the cost and with nearly no allocation.
func (ip *ItemParser) CheckItem(v *fastjson.Value) error {
	if ip.p.strs == nil {
		ip.p.strs = make(map[string]string, 256)
	}
	ip.p.segs = ip.p.segs[:0]
	ip.p.check = true
	_, err := ip.p.parseMap(v, 1)
	ip.p.check = false
	return err
}

// Bounds of the strings an ItemParser keeps.
const (
	internMaxLen     = 40
	internMaxEntries = 1 << 14
)

// attrParser reads attribute values, keeping the names of the enclosing
// attributes so that an error can name its path; the path string itself
// is built only for errors.
type attrParser struct {
	segs []string
	strs map[string]string // interned attribute names; nil: none
	// check, when set, only validates: values are not kept, and the
	// attributes of each map depth reuse names[depth]'s memory.
	check bool
	names [][]Attr
	b64   []byte // scratch of base64 checks
}

// checkAttrs returns the reusable attribute slice of a depth, emptied.
func (p *attrParser) checkAttrs(depth int) []Attr {
	for len(p.names) <= depth {
		p.names = append(p.names, nil)
	}
	return p.names[depth][:0]
}

// str returns b as a string, from the interned strings when it is there
// or when there is room to keep it.
func (p *attrParser) str(b []byte) string {
	if p.strs == nil || len(b) > internMaxLen {
		return string(b)
	}
	if s, ok := p.strs[string(b)]; ok { // no allocation for the lookup
		return s
	}
	s := string(b)
	if len(p.strs) < internMaxEntries {
		p.strs[s] = s
	}
	return s
}

func (p *attrParser) fail(err error) error {
	path := ""
	for _, s := range p.segs {
		path = JoinPath(path, s)
	}
	return &AttrError{Path: path, Err: err}
}

func (p *attrParser) push(seg string) { p.segs = append(p.segs, seg) }
func (p *attrParser) pop()            { p.segs = p.segs[:len(p.segs)-1] }

func (p *attrParser) parseMap(v *fastjson.Value, depth int) ([]Attr, error) {
	o, err := v.Object()
	if err != nil {
		return nil, p.fail(fmt.Errorf("%w: want an object of attributes, got %s", ErrBadValue, v.Type()))
	}
	var attrs []Attr
	if p.check {
		attrs = p.checkAttrs(depth)
		defer func() { p.names[depth] = attrs[:0] }()
	} else {
		attrs = make([]Attr, 0, o.Len())
	}
	var ferr error
	var seen map[string]struct{}
	o.Visit(func(k []byte, av *fastjson.Value) {
		if ferr != nil {
			return
		}
		if !utf8.Valid(k) {
			p.push(string(k))
			ferr = p.fail(fmt.Errorf("%w: attribute name", ErrBadUTF8))
			p.pop()
			return
		}
		if len(k) == 0 || len(k) > MaxNameBytes {
			// DynamoDB names are 1 byte to under 64 KB; an empty one
			// would also vanish from the attribute's path.
			p.push(p.str(k[:min(len(k), 64)]))
			ferr = p.fail(fmt.Errorf("%w: attribute name of %d bytes: DynamoDB's are 1 to %d", ErrBadValue, len(k), MaxNameBytes))
			p.pop()
			return
		}
		name := p.str(k)
		p.push(name)
		defer p.pop()
		if len(attrs) > 32 {
			if seen == nil {
				seen = make(map[string]struct{}, o.Len())
				for _, a := range attrs {
					seen[a.Name] = struct{}{}
				}
			}
			if _, dup := seen[name]; dup {
				ferr = p.fail(ErrDuplicateName)
				return
			}
			seen[name] = struct{}{}
		} else {
			for _, a := range attrs {
				if a.Name == name {
					ferr = p.fail(ErrDuplicateName)
					return
				}
			}
		}
		val, err := p.parseValue(av, depth)
		if err != nil {
			ferr = err
			return
		}
		attrs = append(attrs, Attr{Name: name, Value: val})
	})
	if ferr != nil {
		return nil, ferr
	}
	if p.check {
		return nil, nil
	}
	return attrs, nil
}

func (p *attrParser) parseValue(v *fastjson.Value, depth int) (Value, error) {
	if depth > MaxDepth {
		return Value{}, p.fail(ErrTooDeep)
	}
	o, err := v.Object()
	if err != nil {
		return Value{}, p.fail(fmt.Errorf("%w: want an attribute value object, got %s", ErrBadValue, v.Type()))
	}
	if o.Len() != 1 {
		if o.Len() == 0 {
			return Value{}, p.fail(ErrNoType)
		}
		var tags []string
		o.Visit(func(k []byte, _ *fastjson.Value) { tags = append(tags, string(k)) })
		return Value{}, p.fail(fmt.Errorf("%w: %s", ErrMultipleTypes, strings.Join(tags, ", ")))
	}
	var tag []byte
	var inner *fastjson.Value
	o.Visit(func(k []byte, x *fastjson.Value) { tag, inner = k, x })
	kind, ok := kindOfBytes(tag)
	if !ok {
		return Value{}, p.fail(fmt.Errorf("%w: %q", ErrUnknownType, tag))
	}
	bad := func(want string) error {
		return p.fail(fmt.Errorf("%w: %s wants %s, got %s", ErrBadValue, kind, want, inner.Type()))
	}
	switch kind {
	case S:
		s, err := inner.StringBytes()
		if err != nil {
			return Value{}, bad("a string")
		}
		if !utf8.Valid(s) {
			return Value{}, p.fail(ErrBadUTF8)
		}
		if p.check {
			return Value{Kind: S}, nil
		}
		return Value{Kind: S, S: string(s)}, nil
	case N:
		s, err := inner.StringBytes()
		if err != nil {
			return Value{}, bad("a string")
		}
		if err := checkNumber(s); err != nil {
			return Value{}, p.fail(err)
		}
		if p.check {
			return Value{Kind: N}, nil
		}
		return Value{Kind: N, S: string(s)}, nil
	case B:
		s, err := inner.StringBytes()
		if err != nil {
			return Value{}, bad("a base64 string")
		}
		if p.check {
			if err := p.checkBase64(s); err != nil {
				return Value{}, p.fail(fmt.Errorf("%w: %v", ErrBadBase64, err))
			}
			return Value{Kind: B}, nil
		}
		b, err := decodeBase64(s)
		if err != nil {
			return Value{}, p.fail(fmt.Errorf("%w: %v", ErrBadBase64, err))
		}
		return Value{Kind: B, B: b}, nil
	case BOOL:
		switch inner.Type() {
		case fastjson.TypeTrue:
			return Value{Kind: BOOL, Bool: true}, nil
		case fastjson.TypeFalse:
			return Value{Kind: BOOL}, nil
		}
		return Value{}, bad("true or false")
	case NULL:
		if inner.Type() != fastjson.TypeTrue {
			return Value{}, bad("true")
		}
		return Value{Kind: NULL}, nil
	case M:
		m, err := p.parseMap(inner, depth+1)
		if err != nil {
			return Value{}, err
		}
		return Value{Kind: M, M: m}, nil
	case L:
		arr, err := inner.Array()
		if err != nil {
			return Value{}, bad("an array")
		}
		if p.check {
			for i, e := range arr {
				p.push(itoa(i))
				_, err = p.parseValue(e, depth+1)
				p.pop()
				if err != nil {
					return Value{}, err
				}
			}
			return Value{Kind: L}, nil
		}
		l := make([]Value, len(arr))
		for i, e := range arr {
			p.push(itoa(i))
			l[i], err = p.parseValue(e, depth+1)
			p.pop()
			if err != nil {
				return Value{}, err
			}
		}
		return Value{Kind: L, L: l}, nil
	}
	// Sets.
	arr, err := inner.Array()
	if err != nil {
		return Value{}, bad("an array of strings")
	}
	if len(arr) == 0 {
		return Value{}, p.fail(ErrEmptySet)
	}
	if p.check {
		var member Value
		for i, e := range arr {
			if err := p.parseMember(kind, e, &member); err != nil {
				p.push(itoa(i))
				err = p.fail(err)
				p.pop()
				return Value{}, err
			}
		}
		return Value{Kind: kind}, nil
	}
	l := make([]Value, len(arr))
	for i, e := range arr {
		if err := p.parseMember(kind, e, &l[i]); err != nil {
			p.push(itoa(i))
			err = p.fail(err)
			p.pop()
			return Value{}, err
		}
	}
	return Value{Kind: kind, L: l}, nil
}

// parseMember reads one member of a set of the given kind into dst.
func (p *attrParser) parseMember(set Kind, e *fastjson.Value, dst *Value) error {
	s, err := e.StringBytes()
	if err != nil {
		return fmt.Errorf("%w: %s member wants a string, got %s", ErrBadValue, set, e.Type())
	}
	switch set {
	case SS:
		if !utf8.Valid(s) {
			return ErrBadUTF8
		}
		if p.check {
			return nil
		}
		*dst = Value{Kind: S, S: string(s)}
	case NS:
		if err := checkNumber(s); err != nil {
			return err
		}
		if p.check {
			return nil
		}
		*dst = Value{Kind: N, S: string(s)}
	case BS:
		if p.check {
			if err := p.checkBase64(s); err != nil {
				return fmt.Errorf("%w: %v", ErrBadBase64, err)
			}
			return nil
		}
		b, err := decodeBase64(s)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrBadBase64, err)
		}
		*dst = Value{Kind: B, B: b}
	}
	return nil
}

// checkBase64 returns decodeBase64's error for s, decoding into scratch
// memory.
func (p *attrParser) checkBase64(s []byte) error {
	n := base64.RawStdEncoding.DecodedLen(len(s)) + 2
	if cap(p.b64) < n {
		p.b64 = make([]byte, n)
	}
	out := p.b64[:n]
	if _, err := base64.StdEncoding.Decode(out, s); err != nil {
		if _, err2 := base64.RawStdEncoding.Decode(out, s); err2 == nil {
			return nil
		}
		return err
	}
	return nil
}

func decodeBase64(s []byte) ([]byte, error) {
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(s))+2)
	n, err := base64.StdEncoding.Decode(out, s)
	if err != nil {
		// Some producers drop the padding.
		if n2, err2 := base64.RawStdEncoding.Decode(out, s); err2 == nil {
			return out[:n2], nil
		}
		return nil, err
	}
	return out[:n], nil
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return fmt.Sprint(i)
}

// AppendValueJSON appends v as DynamoDB JSON ({"S":"x"}, {"M":{...}}, B as
// base64) to dst.
func AppendValueJSON(dst []byte, v Value) []byte {
	dst = append(dst, `{"`...)
	dst = append(dst, v.Kind.String()...)
	dst = append(dst, `":`...)
	switch v.Kind {
	case S, N:
		dst = AppendJSONString(dst, v.S)
	case B:
		dst = appendBase64(dst, v.B)
	case BOOL:
		if v.Bool {
			dst = append(dst, "true"...)
		} else {
			dst = append(dst, "false"...)
		}
	case NULL:
		dst = append(dst, "true"...)
	case M:
		dst = AppendItemJSON(dst, v.M)
	case L:
		dst = append(dst, '[')
		for i, e := range v.L {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendValueJSON(dst, e)
		}
		dst = append(dst, ']')
	case SS, NS, BS:
		dst = append(dst, '[')
		for i, e := range v.L {
			if i > 0 {
				dst = append(dst, ',')
			}
			if v.Kind == BS {
				dst = appendBase64(dst, e.B)
			} else {
				dst = AppendJSONString(dst, e.S)
			}
		}
		dst = append(dst, ']')
	default:
		dst = append(dst, "null"...)
	}
	return append(dst, '}')
}

// AppendItemJSON appends attrs as a DynamoDB JSON object to dst.
func AppendItemJSON(dst []byte, attrs []Attr) []byte {
	dst = append(dst, '{')
	for i, a := range attrs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendJSONString(dst, a.Name)
		dst = append(dst, ':')
		dst = AppendValueJSON(dst, a.Value)
	}
	return append(dst, '}')
}

func appendBase64(dst []byte, b []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string. Invalid UTF-8 is replaced
// by U+FFFD, as encoding/json does.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
