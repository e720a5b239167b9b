package decode

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/ddblake/ddblake/flatten"
	"github.com/valyala/fastjson"
)

// maxEventIDBytes bounds an eventID: DynamoDB's are 32 hex digits, and
// a Kinesis one names a shard and a sequence number.
const maxEventIDBytes = 256

// checkEscapes refuses a record whose JSON text holds an escape that
// does not stand for valid UTF-8 (see flatten.CheckEscapes); the error's
// path is where the escape is, at prefixes it.
func checkEscapes(raw []byte, rerr *RecordError, at string) error {
	err := flatten.CheckEscapes(raw)
	if err == nil {
		return nil
	}
	var ee *flatten.EscapeError
	if errors.As(err, &ee) {
		if p := jsonPathAt(raw, ee.Offset); p != "" {
			rerr.Path = at + p
		}
	}
	return err
}

// checkKeys refuses an object that names a key twice: which of the two
// values the record means cannot be told (a JSON parser keeps either).
// at names the object in the error.
func (d *Decoder) checkKeys(v *fastjson.Value, rerr *RecordError, at string) error {
	o, err := v.Object()
	if err != nil || o.Len() < 2 {
		return nil
	}
	var dup []byte
	seen := d.keys[:0]
	o.Visit(func(k []byte, _ *fastjson.Value) {
		if dup != nil {
			return
		}
		for _, s := range seen {
			if string(s) == string(k) {
				dup = k
				return
			}
		}
		seen = append(seen, k)
	})
	clear(seen) // no reference to the parser's memory
	d.keys = seen[:0]
	if dup == nil {
		return nil
	}
	rerr.Path = at + string(dup)
	where := "the record"
	if at != "" {
		where = at[:len(at)-1]
	}
	return fmt.Errorf("%w: %q appears twice in %s", ErrDuplicateKey, clip(dup), where)
}

// eventID reads an optional eventID: a string of valid UTF-8, at most
// maxEventIDBytes.
func eventID(id *fastjson.Value) (string, error) {
	if id == nil || id.Type() == fastjson.TypeNull {
		return "", nil
	}
	b, err := id.StringBytes()
	switch {
	case err != nil:
		return "", fmt.Errorf("%w: eventID is %s, want a string", ErrBadRecord, id.Type())
	case len(b) > maxEventIDBytes:
		return "", fmt.Errorf("%w: eventID is %d bytes, want at most %d", ErrBadRecord, len(b), maxEventIDBytes)
	case !utf8.Valid(b):
		return "", fmt.Errorf("eventID: %w", flatten.ErrBadUTF8)
	}
	return string(b), nil
}

// jsonPathAt returns the path (object keys and array indexes joined by
// '.') of the string that holds byte off of the JSON text b, "" when it
// cannot tell. Keys are given as written, escapes and all. It is for
// error messages only.
func jsonPathAt(b []byte, off int) string {
	type frame struct {
		object bool
		key    string
		index  int
		keyed  bool // object: the next string is a value, not a key
	}
	var stack []frame
	path := func(frames []frame, last string) string {
		out := ""
		for _, f := range frames {
			seg := f.key
			if !f.object {
				seg = strconv.Itoa(f.index)
			}
			if out != "" {
				out += "."
			}
			out += seg
		}
		if last != "" {
			if out != "" {
				out += "."
			}
			out += last
		}
		return out
	}
	for i := 0; i < len(b) && i <= off; i++ {
		switch c := b[i]; c {
		case '{', '[':
			stack = append(stack, frame{object: c == '{'})
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case ',':
			if n := len(stack); n > 0 {
				if stack[n-1].object {
					stack[n-1].keyed = false
				} else {
					stack[n-1].index++
				}
			}
		case ':':
			if n := len(stack); n > 0 {
				stack[n-1].keyed = true
			}
		case '"':
			j := i + 1
			for j < len(b) && b[j] != '"' {
				if b[j] == '\\' {
					j++
				}
				j++
			}
			text := string(b[i+1 : min(j, len(b))])
			n := len(stack)
			isKey := n > 0 && stack[n-1].object && !stack[n-1].keyed
			if off < j {
				if isKey {
					return path(stack[:n-1], text)
				}
				return path(stack, "")
			}
			if isKey {
				stack[n-1].key = text
			}
			i = j
		}
	}
	return ""
}
