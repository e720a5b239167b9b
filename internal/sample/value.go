package sample

import (
	"encoding/base64"
	"strconv"

	"github.com/ddblake/ddblake/flatten"
)

// kind is a DynamoDB attribute value type.
type kind uint8

const (
	kindS kind = iota + 1
	kindN
	kindB
	kindBOOL
	kindNULL
	kindM
	kindL
	kindSS
	kindNS
	kindBS
)

// value is one DynamoDB attribute value. Values are never mutated once
// they are part of an item: a change builds a new item that shares the
// unchanged parts, so an image recorded in the history stays as it was.
type value struct {
	k   kind
	s   string   // S, N (the number's text)
	b   []byte   // B
	t   bool     // BOOL
	l   []value  // L
	m   []attr   // M
	set []string // SS, NS (text), BS (raw bytes as a string)
}

// attr is a named attribute value; items and maps keep their attributes
// in insertion order.
type attr struct {
	name string
	v    value
}

// item is a DynamoDB item (or a map's attributes).
type item []attr

func vS(s string) value           { return value{k: kindS, s: s} }
func vN(s string) value           { return value{k: kindN, s: s} }
func vInt(n int64) value          { return value{k: kindN, s: strconv.FormatInt(n, 10)} }
func vB(b []byte) value           { return value{k: kindB, b: b} }
func vBool(t bool) value          { return value{k: kindBOOL, t: t} }
func vNull() value                { return value{k: kindNULL} }
func vM(attrs ...attr) value      { return value{k: kindM, m: attrs} }
func vL(vals ...value) value      { return value{k: kindL, l: vals} }
func vSS(ss ...string) value      { return value{k: kindSS, set: ss} }
func vNS(ns ...string) value      { return value{k: kindNS, set: ns} }
func a(name string, v value) attr { return attr{name: name, v: v} }

// get returns the attribute named name.
func (it item) get(name string) (value, bool) {
	for _, at := range it {
		if at.name == name {
			return at.v, true
		}
	}
	return value{}, false
}

// with returns a copy of it with name set to v (replaced in place, or
// appended when absent). it itself is not changed.
func (it item) with(name string, v value) item {
	out := make(item, 0, len(it)+1)
	found := false
	for _, at := range it {
		if at.name == name {
			at.v = v
			found = true
		}
		out = append(out, at)
	}
	if !found {
		out = append(out, attr{name: name, v: v})
	}
	return out
}

// without returns a copy of it without the attribute name.
func (it item) without(name string) item {
	out := make(item, 0, len(it))
	for _, at := range it {
		if at.name != name {
			out = append(out, at)
		}
	}
	return out
}

// project returns the attributes of it named by names, in that order.
func (it item) project(names ...string) item {
	out := make(item, 0, len(names))
	for _, n := range names {
		if v, ok := it.get(n); ok {
			out = append(out, attr{name: n, v: v})
		}
	}
	return out
}

// withSetMember returns a copy of set value v with s added (v may be the
// zero value, then a new set of kind k is made). Sets never hold
// duplicates.
func withSetMember(v value, k kind, s string) value {
	if v.k != k {
		return value{k: k, set: []string{s}}
	}
	for _, e := range v.set {
		if e == s {
			return v
		}
	}
	set := make([]string, len(v.set), len(v.set)+1)
	copy(set, v.set)
	return value{k: k, set: append(set, s)}
}

// hasMember reports whether set value v holds s.
func hasMember(v value, s string) bool {
	for _, e := range v.set {
		if e == s {
			return true
		}
	}
	return false
}

// appendItem appends it as a DynamoDB JSON object.
func appendItem(dst []byte, it item) []byte {
	dst = append(dst, '{')
	for i, at := range it {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, at.name)
		dst = append(dst, ':')
		dst = appendValue(dst, at.v)
	}
	return append(dst, '}')
}

// appendValue appends v as a DynamoDB JSON attribute value. It is the
// generator's own writer, kept apart from flatten's on purpose (see the
// package doc): the data it writes is what flatten is tested against.
func appendValue(dst []byte, v value) []byte {
	switch v.k {
	case kindS:
		dst = append(dst, `{"S":`...)
		dst = appendString(dst, v.s)
	case kindN:
		dst = append(dst, `{"N":`...)
		dst = appendString(dst, v.s)
	case kindB:
		dst = append(dst, `{"B":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, v.b)
		dst = append(dst, '"')
	case kindBOOL:
		dst = append(dst, `{"BOOL":`...)
		dst = strconv.AppendBool(dst, v.t)
	case kindNULL:
		dst = append(dst, `{"NULL":true`...)
	case kindM:
		dst = append(dst, `{"M":`...)
		dst = appendItem(dst, v.m)
	case kindL:
		dst = append(dst, `{"L":[`...)
		for i, e := range v.l {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendValue(dst, e)
		}
		dst = append(dst, ']')
	case kindSS, kindNS:
		if v.k == kindSS {
			dst = append(dst, `{"SS":[`...)
		} else {
			dst = append(dst, `{"NS":[`...)
		}
		for i, e := range v.set {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, e)
		}
		dst = append(dst, ']')
	case kindBS:
		dst = append(dst, `{"BS":[`...)
		for i, e := range v.set {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '"')
			dst = base64.StdEncoding.AppendEncode(dst, []byte(e))
			dst = append(dst, '"')
		}
		dst = append(dst, ']')
	default:
		panic("sample: value without a kind")
	}
	return append(dst, '}')
}

// appendString appends s as a JSON string, escaped as flatten writes
// DynamoDB JSON.
func appendString(dst []byte, s string) []byte { return flatten.AppendJSONString(dst, s) }

// itemSize approximates DynamoDB's item size rules: attribute names and
// values in bytes, numbers at about one byte per two digits, one byte
// of overhead per nested element.
func itemSize(it item) int {
	n := 0
	for _, at := range it {
		n += len(at.name) + valueSize(at.v)
	}
	return n
}

func valueSize(v value) int {
	switch v.k {
	case kindS:
		return len(v.s)
	case kindN:
		return (len(v.s)+1)/2 + 1
	case kindB:
		return len(v.b)
	case kindBOOL, kindNULL:
		return 1
	case kindM:
		return 3 + itemSize(v.m) + len(v.m)
	case kindL:
		n := 3
		for _, e := range v.l {
			n += valueSize(e) + 1
		}
		return n
	case kindSS, kindBS:
		n := 0
		for _, e := range v.set {
			n += len(e)
		}
		return n
	case kindNS:
		n := 0
		for _, e := range v.set {
			n += (len(e)+1)/2 + 1
		}
		return n
	}
	return 0
}
