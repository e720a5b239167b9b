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
	for i, n := range kindNames {
		if n == tag && i != 0 {
			return Kind(i), true
		}
	}
	return KindInvalid, false
}

// MaxDepth is DynamoDB's nesting limit for attribute values.
const MaxDepth = 32

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
	return parseMap(v, "", 1)
}

// ParseValue reads one DynamoDB JSON attribute value such as {"S":"x"}.
func ParseValue(v *fastjson.Value) (Value, error) {
	return parseValue(v, "", 1)
}

func parseMap(v *fastjson.Value, path string, depth int) ([]Attr, error) {
	o, err := v.Object()
	if err != nil {
		return nil, &AttrError{Path: path, Err: fmt.Errorf("%w: want an object of attributes, got %s", ErrBadValue, v.Type())}
	}
	attrs := make([]Attr, 0, o.Len())
	var ferr error
	var seen map[string]struct{}
	o.Visit(func(k []byte, av *fastjson.Value) {
		if ferr != nil {
			return
		}
		name := string(k)
		p := JoinPath(path, name)
		if len(attrs) > 8 {
			if seen == nil {
				seen = make(map[string]struct{}, o.Len())
				for _, a := range attrs {
					seen[a.Name] = struct{}{}
				}
			}
			if _, dup := seen[name]; dup {
				ferr = &AttrError{Path: p, Err: ErrDuplicateName}
				return
			}
			seen[name] = struct{}{}
		} else {
			for _, a := range attrs {
				if a.Name == name {
					ferr = &AttrError{Path: p, Err: ErrDuplicateName}
					return
				}
			}
		}
		val, err := parseValue(av, p, depth)
		if err != nil {
			ferr = err
			return
		}
		attrs = append(attrs, Attr{Name: name, Value: val})
	})
	if ferr != nil {
		return nil, ferr
	}
	return attrs, nil
}

func parseValue(v *fastjson.Value, path string, depth int) (Value, error) {
	if depth > MaxDepth {
		return Value{}, &AttrError{Path: path, Err: ErrTooDeep}
	}
	o, err := v.Object()
	if err != nil {
		return Value{}, &AttrError{Path: path, Err: fmt.Errorf("%w: want an attribute value object, got %s", ErrBadValue, v.Type())}
	}
	if o.Len() != 1 {
		if o.Len() == 0 {
			return Value{}, &AttrError{Path: path, Err: ErrNoType}
		}
		var tags []string
		o.Visit(func(k []byte, _ *fastjson.Value) { tags = append(tags, string(k)) })
		return Value{}, &AttrError{Path: path, Err: fmt.Errorf("%w: %s", ErrMultipleTypes, strings.Join(tags, ", "))}
	}
	var tag []byte
	var inner *fastjson.Value
	o.Visit(func(k []byte, x *fastjson.Value) { tag, inner = k, x })
	kind, ok := KindOf(string(tag))
	if !ok {
		return Value{}, &AttrError{Path: path, Err: fmt.Errorf("%w: %q", ErrUnknownType, tag)}
	}
	bad := func(want string) error {
		return &AttrError{Path: path, Err: fmt.Errorf("%w: %s wants %s, got %s", ErrBadValue, kind, want, inner.Type())}
	}
	switch kind {
	case S:
		s, err := inner.StringBytes()
		if err != nil {
			return Value{}, bad("a string")
		}
		return Value{Kind: S, S: string(s)}, nil
	case N:
		s, err := inner.StringBytes()
		if err != nil {
			return Value{}, bad("a string")
		}
		if _, err := ParseNumber(string(s)); err != nil {
			return Value{}, &AttrError{Path: path, Err: err}
		}
		return Value{Kind: N, S: string(s)}, nil
	case B:
		s, err := inner.StringBytes()
		if err != nil {
			return Value{}, bad("a base64 string")
		}
		b, err := decodeBase64(s)
		if err != nil {
			return Value{}, &AttrError{Path: path, Err: fmt.Errorf("%w: %v", ErrBadBase64, err)}
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
		m, err := parseMap(inner, path, depth+1)
		if err != nil {
			return Value{}, err
		}
		return Value{Kind: M, M: m}, nil
	case L:
		arr, err := inner.Array()
		if err != nil {
			return Value{}, bad("an array")
		}
		l := make([]Value, len(arr))
		for i, e := range arr {
			if l[i], err = parseValue(e, JoinPath(path, itoa(i)), depth+1); err != nil {
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
		return Value{}, &AttrError{Path: path, Err: ErrEmptySet}
	}
	member := map[Kind]Kind{SS: S, NS: N, BS: B}[kind]
	l := make([]Value, len(arr))
	for i, e := range arr {
		s, err := e.StringBytes()
		if err != nil {
			return Value{}, &AttrError{Path: JoinPath(path, itoa(i)), Err: fmt.Errorf("%w: %s member wants a string, got %s", ErrBadValue, kind, e.Type())}
		}
		switch member {
		case S:
			l[i] = Value{Kind: S, S: string(s)}
		case N:
			if _, err := ParseNumber(string(s)); err != nil {
				return Value{}, &AttrError{Path: JoinPath(path, itoa(i)), Err: err}
			}
			l[i] = Value{Kind: N, S: string(s)}
		case B:
			b, err := decodeBase64(s)
			if err != nil {
				return Value{}, &AttrError{Path: JoinPath(path, itoa(i)), Err: fmt.Errorf("%w: %v", ErrBadBase64, err)}
			}
			l[i] = Value{Kind: B, B: b}
		}
	}
	return Value{Kind: kind, L: l}, nil
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
