package flatten

import (
	"math/bits"
	"slices"

	"github.com/ddblake/ddblake/schemas"
)

// MapKeysLimit is the number of distinct keys one map path may show, over
// a batch (or, for an Inferrer, over everything it saw), before the map
// is kept whole as one map column: past it the keys are data, not field
// names.
const MapKeysLimit = 64

// maxKeySets bounds the distinct key sets a mapStats keeps for the
// disjoint-keys rule; a path showing more is a map column.
const maxKeySets = 4096

// maxNameKeyLen is the longest key that can read as a field name.
const maxNameKeyLen = 64

// DataKey reports whether a map key looks like data (an id, a number, an
// emoji, a tag) rather than a field name, which decides, with the other
// rules of a map path's keys (see MapStats), that a map is kept whole as
// one map column instead of being flattened into one column per key. A
// key reads as a field name when it is at most 64 bytes of ASCII letters,
// digits, '_' and '-', starting with a letter (after at most one leading
// '_', '$' or '@'), and does not look random:
//
//   - fewer than 3 changes between letters and digits ("address2",
//     "x509Cert" are names; "u0uqeh6k", "a1b2" are ids);
//   - no run of 5 or more digits ("user12345");
//   - not 6 or more hex digits mixing letters and digits ("abc123",
//     "7dca8088");
//   - not a mixed-case jumble: 4 or more case changes, at least one per
//     three characters ("kXfQLmNP").
//
// Everything else is data: keys that start with a digit (numbers, dates,
// most UUIDs and ULIDs), hold other characters (emoji, Hangul, spaces,
// '#', ':', '.', '@' inside), are empty or longer than 64 bytes.
func DataKey(k string) bool {
	if len(k) == 0 || len(k) > maxNameKeyLen {
		return true
	}
	i := 0
	if c := k[0]; c == '_' || c == '$' || c == '@' {
		i = 1
	}
	if i >= len(k) || !isLetter(k[i]) {
		return true
	}
	var (
		alnumChanges, caseChanges int
		digitRun, maxDigitRun     int
		hex, hasDigit, hasLetter  = true, false, false
		prev                      byte
	)
	for j := i; j < len(k); j++ {
		c := k[j]
		switch {
		case isLetter(c):
			hasLetter = true
			if !(c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				hex = false
			}
			digitRun = 0
		case c >= '0' && c <= '9':
			hasDigit = true
			digitRun++
			maxDigitRun = max(maxDigitRun, digitRun)
		case c == '_' || c == '-':
			hex = false
			digitRun = 0
		default:
			return true
		}
		if j > i {
			if isDigit(prev) != isDigit(c) && (isLetter(prev) || isLetter(c)) {
				alnumChanges++
			}
			if isLetter(prev) && isLetter(c) && isUpper(prev) != isUpper(c) {
				caseChanges++
			}
		}
		prev = c
	}
	n := len(k) - i
	switch {
	case alnumChanges >= 3, maxDigitRun >= 5:
		return true
	case hex && hasDigit && hasLetter && n >= 6:
		return true
	case caseChanges >= 4 && caseChanges*3 >= n:
		return true
	}
	return false
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isUpper(c byte) bool  { return c >= 'A' && c <= 'Z' }

// mapStats gathers what the maps seen at one path say about their keys:
// whether a key looks like data, how many distinct keys there are (up to
// MapKeysLimit+1), and which sets of keys the maps hold, to find two
// maps of two or more keys that share none. The result does not depend
// on the order maps are added or merged in.
type mapStats struct {
	maps     int
	dataKey  bool
	keys     map[string]uint8 // key -> bit; nil once past MapKeysLimit
	overflow bool             // more than MapKeysLimit distinct keys
	sets     map[uint64]struct{}
	manySets bool // more than maxKeySets distinct key sets
	disjoint bool // two sets of 2+ keys share no key
	values   valueAcc
}

func newMapStats() *mapStats {
	return &mapStats{keys: map[string]uint8{}, sets: map[uint64]struct{}{}}
}

// addKeys notes the keys of one map.
func (m *mapStats) addKeys(attrs []Attr) {
	m.maps++
	var set uint64
	for _, a := range attrs {
		if !m.dataKey && DataKey(a.Name) {
			m.dataKey = true
		}
		if m.overflow {
			continue
		}
		bit, ok := m.keys[a.Name]
		if !ok {
			if len(m.keys) == MapKeysLimit {
				m.overflow = true
				m.keys, m.sets = nil, nil
				continue
			}
			bit = uint8(len(m.keys))
			m.keys[a.Name] = bit
		}
		set |= 1 << bit
	}
	if !m.overflow {
		m.addSet(set)
	}
}

// addSet notes one key set (bits of m.keys).
func (m *mapStats) addSet(set uint64) {
	if m.manySets {
		return
	}
	if _, ok := m.sets[set]; ok {
		return
	}
	if bits.OnesCount64(set) >= 2 && !m.disjoint {
		for o := range m.sets {
			if bits.OnesCount64(o) >= 2 && o&set == 0 {
				m.disjoint = true
				break
			}
		}
	}
	if len(m.sets) == maxKeySets {
		m.manySets = true
		m.sets = nil
		return
	}
	m.sets[set] = struct{}{}
}

// merge folds o into m.
func (m *mapStats) merge(o *mapStats) {
	m.maps += o.maps
	m.dataKey = m.dataKey || o.dataKey
	m.values.merge(&o.values)
	if m.overflow {
		return
	}
	if o.overflow {
		m.overflow = true
		m.keys, m.sets = nil, nil
		return
	}
	// Renumber o's keys into m's, in a fixed order so the bits do not
	// depend on map iteration.
	names := make([]string, len(o.keys))
	for k, bit := range o.keys {
		names[bit] = k
	}
	remap := make([]uint8, len(names))
	for bit, k := range names {
		nb, ok := m.keys[k]
		if !ok {
			if len(m.keys) == MapKeysLimit {
				m.overflow = true
				m.keys, m.sets = nil, nil
				return
			}
			nb = uint8(len(m.keys))
			m.keys[k] = nb
		}
		remap[bit] = nb
	}
	m.disjoint = m.disjoint || o.disjoint
	if o.manySets {
		m.manySets, m.sets = true, nil
		return
	}
	sets := make([]uint64, 0, len(o.sets))
	for s := range o.sets {
		sets = append(sets, s)
	}
	slices.Sort(sets)
	for _, s := range sets {
		var ns uint64
		for bit := range remap {
			if s&(1<<bit) != 0 {
				ns |= 1 << remap[bit]
			}
		}
		m.addSet(ns)
	}
}

// isMap reports whether the keys seen make the path a map column: a key
// that looks like data, more than MapKeysLimit distinct keys, more than
// maxKeySets distinct key sets, or two maps of two or more keys that
// share none (maps keyed by ids: {seller1, buyer1} and {seller2,
// buyer2}).
func (m *mapStats) isMap() bool {
	return m.dataKey || m.overflow || m.manySets || m.disjoint
}

// MapStats is the public view of the key rules, for tests and tools: it
// reports whether maps holding these key sets, seen at one path, would be
// kept as one map column.
func MapStats(keySets ...[]string) bool {
	m := newMapStats()
	for _, keys := range keySets {
		attrs := make([]Attr, len(keys))
		for i, k := range keys {
			attrs[i] = Attr{Name: k}
		}
		m.addKeys(attrs)
	}
	return m.isMap()
}

// valueAcc gathers the kinds of the values of the maps of one path, to
// type their map column: NULLs, empty lists and empty maps say nothing.
type valueAcc struct {
	kinds uint16 // one bit per Kind
	nums  numStats
}

func (a *valueAcc) add(v Value) {
	if isEmpty(v) {
		return
	}
	a.kinds |= 1 << v.Kind
	if v.Kind == N {
		a.nums.add(v.S)
	}
}

func (a *valueAcc) merge(o *valueAcc) {
	a.kinds |= o.kinds
	a.nums.merge(o.nums)
}

// typ is the value type of the map column: string, bigint, decimal(38,s),
// binary or boolean when every value has that one DynamoDB kind, else
// json (DynamoDB JSON per value), which also keeps numbers too wide for a
// decimal exact. The zero Type when no value said anything.
func (a *valueAcc) typ() schemas.Type {
	if a.kinds == 0 {
		return schemas.Type{}
	}
	if bits.OnesCount16(a.kinds) == 1 {
		switch Kind(bits.TrailingZeros16(a.kinds)) {
		case S:
			return schemas.String
		case B:
			return schemas.Binary
		case BOOL:
			return schemas.Boolean
		case N:
			if t := a.nums.typ(); t.Kind != schemas.KindString {
				return t
			}
		}
	}
	return schemas.JSON
}
