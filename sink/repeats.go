package sink

import (
	"hash/maphash"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/schemas"
)

// dictSample is how many values of a string column, from the file's first
// rows, decide its encoding.
const dictSample = 1024

// repeats reports whether at least half of the first dictSample strings
// of column j in rows idx (the map keys with keys set, else the cells,
// array elements or map values) repeat an earlier one.
//
// It first counts those strings (n, at most dictSample), then adds them
// to a set until the answer is known: no longer a repeat once more than
// n/2 are distinct, a repeat once the strings left cannot make them so.
// A column of distinct values (ids, text) is thus decided after about
// n/2 strings, and each costs a hash and a probe, not a map insert.
func (e *Encoder) repeats(rows []flatten.Row, idx []int32, j int, kind schemas.Kind, keys bool) bool {
	n := 0
	eachString(rows, idx, j, kind, keys, func(string) bool {
		n++
		return n < dictSample
	})
	if n < 2 {
		return false
	}
	half := n / 2 // 2*distinct <= n
	set := &e.set
	set.reset()
	distinct, seen := 0, 0
	repeat := false
	eachString(rows, idx, j, kind, keys, func(v string) bool {
		seen++
		if set.add(v) {
			if distinct++; distinct > half {
				return false
			}
		}
		if distinct+n-seen <= half {
			repeat = true
			return false
		}
		return true
	})
	return repeat
}

// eachString calls fn with the strings of column j in rows idx that
// repeats counts, in order, until fn returns false: with keys set the
// keys of a map column, else the cells, the valid elements of an array
// or the valid values of a map.
func eachString(rows []flatten.Row, idx []int32, j int, kind schemas.Kind, keys bool, fn func(string) bool) {
	for _, i := range idx {
		vals := rows[i].Values
		if j >= len(vals) || !vals[j].Valid {
			continue
		}
		d := &vals[j]
		switch kind {
		case schemas.KindArray:
			for k := range d.List {
				if d.List[k].Valid && !fn(d.List[k].Str) {
					return
				}
			}
		case schemas.KindMap:
			for k := range d.MapLen() {
				if keys {
					if !fn(d.MapKey(k)) {
						return
					}
				} else if v := d.MapValue(k); v.Valid && !fn(v.Str) {
					return
				}
			}
		default:
			if !fn(d.Str) {
				return
			}
		}
	}
}

// setSlots is the size of a stringSet's table: a power of two at least
// twice dictSample, so that probes stay short.
const setSlots = 4 * dictSample

// stringSet is a set of at most dictSample strings: an open-addressing
// table of their hashes, each slot pointing at the string it holds so
// that equal strings are told from colliding hashes. Reset costs no
// clearing: slots of an older generation count as empty.
type stringSet struct {
	seed  maphash.Seed
	gen   uint32
	slots []setSlot
	strs  []string
}

type setSlot struct {
	gen  uint32
	str  uint32 // index in strs
	hash uint64
}

// reset empties the set.
func (s *stringSet) reset() {
	if s.slots == nil {
		s.seed = maphash.MakeSeed()
		s.slots = make([]setSlot, setSlots)
	}
	s.gen++
	if s.gen == 0 { // wrapped: old slots could pass for new ones
		clear(s.slots)
		s.gen = 1
	}
	s.strs = s.strs[:0]
}

// release drops the set's references to the strings added.
func (s *stringSet) release() {
	clear(s.strs[:cap(s.strs)])
	s.strs = s.strs[:0]
}

// add adds v and reports whether it was not in the set. At most
// dictSample strings are added between resets.
func (s *stringSet) add(v string) bool {
	h := maphash.String(s.seed, v)
	for i := h & (setSlots - 1); ; i = (i + 1) & (setSlots - 1) {
		sl := &s.slots[i]
		if sl.gen != s.gen {
			*sl = setSlot{gen: s.gen, str: uint32(len(s.strs)), hash: h}
			s.strs = append(s.strs, v)
			return true
		}
		if sl.hash == h && s.strs[sl.str] == v {
			return false
		}
	}
}
