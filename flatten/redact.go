package flatten

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"strings"

	"github.com/valyala/fastjson"
)

// MinMaskKeyBytes is the length of the shortest mask key accepted: a
// shorter key could be guessed along with the values it hides.
const MinMaskKeyBytes = 16

// Action is what the omit and mask rules do at one attribute path.
type Action uint8

// Actions, from the rules of a path and the paths below it.
const (
	// Keep: no rule names the path or anything below it.
	Keep Action = iota
	// Omit: the value is dropped, with everything below it.
	Omit
	// Mask: the value is replaced by its mask (see Redactor.Mask).
	Mask
	// Descend: a rule names a path below this one; the value is kept,
	// but what is inside it must be looked at.
	Descend
)

// Redactor applies the omit and mask rules of one or more tables, and
// computes masks with the mask key. A path is hidden when any of the
// tables hides it, so the Redactor of several tables hides the union of
// what each hides. It is safe for concurrent use.
//
// A mask is the lowercase hex of HMAC-SHA-256 under the key, of the
// value's text for S and N (as written in the input), of its bytes for B,
// and of its DynamoDB JSON (as AppendValueJSON writes it) for the other
// kinds; NULL stays NULL. Equal values give equal masks under one key, so
// masked ids still join.
type Redactor struct {
	omit, mask, expand pathSet
	key                []byte
}

// NewRedactor returns the rules of cfgs together, masking with key.
func NewRedactor(key []byte, cfgs ...TableConfig) *Redactor {
	r := &Redactor{key: key}
	for _, c := range cfgs {
		r.omit = append(r.omit, newPathSet(c.Omit)...)
		r.mask = append(r.mask, newPathSet(c.Mask)...)
		r.expand = append(r.expand, newPathSet(c.Expand)...)
	}
	return r
}

// Empty reports whether no rule omits or masks anything: then nothing
// needs to be hidden.
func (r *Redactor) Empty() bool { return len(r.omit) == 0 && len(r.mask) == 0 }

// Action returns what the rules do at the attribute path segs (names,
// and list indexes in decimal). Omit wins over Mask.
func (r *Redactor) Action(segs []string) Action {
	if a := r.at(segs); a != Keep {
		return a
	}
	if r.hidesBelow(segs) {
		return Descend
	}
	return Keep
}

// at returns Omit or Mask when a rule names segs itself, else Keep.
func (r *Redactor) at(segs []string) Action {
	switch {
	case r.omit.match(segs):
		return Omit
	case r.mask.match(segs):
		return Mask
	}
	return Keep
}

// hidesBelow reports whether a rule names a path strictly below segs.
func (r *Redactor) hidesBelow(segs []string) bool {
	return r.omit.below(segs) || r.mask.below(segs)
}

// Expands reports whether segs is an expand path: an S there holds JSON
// text that is flattened like a map.
func (r *Redactor) Expands(segs []string) bool { return r.expand.match(segs) }

// Hidden returns how many leading segments of segs make the shortest path
// that an omit or mask rule names, or 0 when segs is not at or below such
// a path. Whatever lies at or below segs[:n] is hidden, its names
// included.
func (r *Redactor) Hidden(segs []string) int {
	for n := 1; n <= len(segs); n++ {
		if r.omit.match(segs[:n]) || r.mask.match(segs[:n]) {
			return n
		}
	}
	return 0
}

// Shown returns how many leading segments of segs a reason about a
// value at segs may show: those of the hidden path (see Hidden), but for
// an omitted attribute whose name the rules match only through '*' (a
// key of a map keyed by e-mail addresses, under omit: [contacts.*]),
// whose name is hidden with it, the path stops at the map; len(segs)
// when segs is not hidden. A masked attribute keeps its name in the
// rows, so its path is shown. A name holding dots is spelled out when
// each of its dot-separated parts is.
func (r *Redactor) Shown(segs []string) int {
	n := r.Hidden(segs)
	switch {
	case n == 0:
		return len(segs)
	case r.omit.match(segs[:n]) && !r.spelled(segs[n-1]):
		return n - 1
	}
	return n
}

// spelled reports whether an omit or mask rule spells the name s out
// (not through '*').
func (r *Redactor) spelled(s string) bool {
	for _, ps := range []pathSet{r.omit, r.mask} {
		for _, p := range ps {
			for _, seg := range p {
				if seg == s && seg != "*" {
					return true
				}
			}
		}
	}
	if !strings.Contains(s, ".") {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if !r.spelled(part) {
			return false
		}
	}
	return true
}

// Mask returns the mask of v: an S holding the hex HMAC-SHA-256 (see
// Redactor). NULL stays NULL.
func (r *Redactor) Mask(v Value) Value {
	return maskWith(hmac.New(sha256.New, r.key), v)
}

// MaskBytes returns the hex HMAC-SHA-256 of data, the mask of something
// that is not a readable value.
func (r *Redactor) MaskBytes(data []byte) string {
	h := hmac.New(sha256.New, r.key)
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// MaskAttributeJSON appends to dst the DynamoDB JSON that replaces the
// attribute value b (DynamoDB JSON text) at a masked path: {"S":"<mask>"}
// as the row holds it, {"NULL":true} for NULL, and for text that is not a
// valid attribute value, {"S":"<hex HMAC of the text>"}.
func (r *Redactor) MaskAttributeJSON(dst, b []byte) []byte {
	var p fastjson.Parser
	jv, err := p.ParseBytes(b)
	if err == nil {
		if v, err := ParseValue(jv); err == nil {
			return AppendValueJSON(dst, r.Mask(v))
		}
	}
	return AppendValueJSON(dst, Value{Kind: S, S: r.MaskBytes(b)})
}

// MaskPlainJSON appends to dst the JSON that replaces the value b (plain
// JSON text, inside an expanded string) at a masked path: the mask as a
// JSON string, as the row holds it, or null for null.
func (r *Redactor) MaskPlainJSON(dst, b []byte) []byte {
	var p fastjson.Parser
	jv, err := p.ParseBytes(b)
	v := Value{Kind: S, S: r.MaskBytes(b)}
	if err == nil {
		if fv, ok := fromJSON(jv, 1); ok {
			v = r.Mask(fv)
		}
	}
	if v.Kind == NULL {
		return append(dst, "null"...)
	}
	return AppendJSONString(dst, v.S)
}

// Value returns v, found at path segs, with the rules applied to what is
// inside it, and the number of attributes omitted. It is for values whose
// own path is kept while a rule names a path below it (Action Descend):
// maps and lists are walked (list elements are named by index); a set, or
// an S at an expand path, cannot be walked and is masked whole, for its
// text could show what the rules hide.
func (r *Redactor) Value(v Value, segs []string) (Value, int) {
	return r.redactValue(hmac.New(sha256.New, r.key), v, segs)
}

func (r *Redactor) redactValue(h hash.Hash, v Value, segs []string) (Value, int) {
	segs = segs[:len(segs):len(segs)] // appends below copy
	omitted := 0
	apply := func(seg string, e Value) (Value, bool) {
		s := append(segs, seg)
		switch r.Action(s) {
		case Omit:
			omitted++
			return Value{}, false
		case Mask:
			return maskWith(h, e), true
		case Descend:
			e, n := r.redactValue(h, e, s)
			omitted += n
			return e, true
		}
		return e, true
	}
	switch v.Kind {
	case M:
		out := make([]Attr, 0, len(v.M))
		for _, a := range v.M {
			if e, keep := apply(a.Name, a.Value); keep {
				out = append(out, Attr{Name: a.Name, Value: e})
			}
		}
		return Value{Kind: M, M: out}, omitted
	case L:
		out := make([]Value, 0, len(v.L))
		for i, e := range v.L {
			if e, keep := apply(itoa(i), e); keep {
				out = append(out, e)
			}
		}
		return Value{Kind: L, L: out}, omitted
	case SS, NS, BS:
		return maskWith(h, v), 0
	case S:
		if r.expand.match(segs) {
			return maskWith(h, v), 0
		}
	}
	return v, 0
}

// maskWith returns the mask of v computed with h, an HMAC-SHA-256 under
// the mask key (reset before use).
func maskWith(h hash.Hash, v Value) Value {
	m, _ := maskInto(h, v, nil)
	return m
}

// maskInto is maskWith with scratch memory for the bytes hashed; it
// returns the scratch memory for reuse.
func maskInto(h hash.Hash, v Value, scratch []byte) (Value, []byte) {
	h.Reset()
	switch v.Kind {
	case NULL:
		return v, scratch
	case S, N:
		scratch = append(scratch[:0], v.S...)
	case B:
		h.Write(v.B)
		scratch = scratch[:0]
	default:
		scratch = AppendValueJSON(scratch[:0], v)
	}
	h.Write(scratch)
	var sum [sha256.Size]byte
	return Value{Kind: S, S: hex.EncodeToString(h.Sum(sum[:0]))}, scratch
}
