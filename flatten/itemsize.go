package flatten

import (
	"github.com/valyala/fastjson"
)

// MaxItemBytes is DynamoDB's limit on the size of one item: 400 KB.
const MaxItemBytes = 400 << 10

// ItemSize returns the size of a DynamoDB JSON item (a parsed object of
// attributes) by DynamoDB's documented rules: the UTF-8 length of every
// attribute name and S value, the length of every B value, 1 byte per
// BOOL and NULL, for N 1 byte plus 1 per two significant digits, for M
// and L 3 bytes plus 1 per element, and for sets the sum of their
// members. It reads values in place, allocating nothing, and skips what is
// malformed (ParseItem reports that); it stops counting once past limit
// (when limit > 0) and returns what it has.
func ItemSize(v *fastjson.Value, limit int64) int64 {
	var n int64
	o, err := v.Object()
	if err != nil {
		return 0
	}
	o.Visit(func(k []byte, av *fastjson.Value) {
		if limit > 0 && n > limit {
			return
		}
		n += int64(len(k)) + valueSize(av, 1, limit-n)
	})
	return n
}

// valueSize is the size of one attribute value ({"S":"x"}).
func valueSize(v *fastjson.Value, depth int, limit int64) int64 {
	o, err := v.Object()
	if err != nil || o.Len() != 1 || depth > MaxDepth {
		return 0
	}
	var n int64
	o.Visit(func(tag []byte, inner *fastjson.Value) {
		kind, _ := kindOfBytes(tag)
		switch kind {
		case S:
			n = int64(len(inner.GetStringBytes()))
		case N:
			n = numberSize(inner.GetStringBytes())
		case B:
			n = base64Size(inner.GetStringBytes())
		case BOOL, NULL:
			n = 1
		case M:
			n = 3
			if m, err := inner.Object(); err == nil {
				m.Visit(func(k []byte, e *fastjson.Value) {
					if limit > 0 && n > limit {
						return
					}
					n += 1 + int64(len(k)) + valueSize(e, depth+1, limit-n)
				})
			}
		case L:
			n = 3
			for _, e := range inner.GetArray() {
				if limit > 0 && n > limit {
					break
				}
				n += 1 + valueSize(e, depth+1, limit-n)
			}
		case SS, NS, BS:
			for _, e := range inner.GetArray() {
				s := e.GetStringBytes()
				switch kind {
				case SS:
					n += int64(len(s))
				case NS:
					n += numberSize(s)
				default:
					n += base64Size(s)
				}
			}
		}
	})
	return n
}

// numberSize is 1 byte plus 1 per two significant digits of a number's
// text (leading and trailing zeros are not significant).
func numberSize(s []byte) int64 {
	first, last, digits := -1, -1, 0
	for _, c := range s {
		if c == 'e' || c == 'E' {
			break
		}
		if c < '0' || c > '9' {
			continue
		}
		if c != '0' {
			if first < 0 {
				first = digits
			}
			last = digits
		}
		digits++
	}
	if first < 0 {
		return 1
	}
	return 1 + int64(last-first+2)/2
}

// base64Size is the decoded length of base64 text, padded or not.
func base64Size(s []byte) int64 {
	n := len(s)
	for n > 0 && s[n-1] == '=' {
		n--
	}
	return int64(n) * 3 / 4
}
