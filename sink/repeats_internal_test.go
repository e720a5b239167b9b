package sink

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/schemas"
)

// repeatsByMap is the decision of repeats as a map of the first
// dictSample strings states it (seen, cleared first): the reference the
// faster one must match, and what it replaced.
func repeatsByMap(seen map[string]struct{}, rows []flatten.Row, idx []int32, j int, kind schemas.Kind, keys bool) bool {
	clear(seen)
	n := 0
	eachString(rows, idx, j, kind, keys, func(v string) bool {
		seen[v] = struct{}{}
		n++
		return n < dictSample
	})
	return n >= 2 && 2*len(seen) <= n
}

// TestRepeatsMatchesMapDecision checks the dictionary decision against
// the map-based reference on columns of every shape (scalars, arrays
// with null elements, map keys and values), sizes around dictSample,
// nulls, and distinct counts on both sides of half the values, including
// exactly half.
func TestRepeatsMatchesMapDecision(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(11, 12))
	e := &Encoder{}
	sizes := []int{0, 1, 2, 3, 4, 5, 10, 100, 511, 512, 513, 1000, 1023, 1024, 1025, 1500, 2048, 5000}
	decided := map[bool]int{}
	trials := 3000
	if testing.Short() {
		trials = 600
	}
	for trial := range trials {
		n := sizes[r.IntN(len(sizes))]
		kind := []schemas.Kind{schemas.KindString, schemas.KindArray, schemas.KindMap}[r.IntN(3)]
		// distinct values drawn from: fewer, about, or more than half of
		// the values, so that both answers and the edge come up.
		card := 1 + r.IntN(max(1, n))
		switch r.IntN(4) {
		case 0:
			card = max(1, min(n, dictSample)/2)
		case 1:
			card = max(1, min(n, dictSample)/2+1)
		}
		nulls := []float64{0, 0.1, 0.5, 0.9}[r.IntN(4)]
		sequential := r.IntN(3) == 0 // values 0, 1, 2... then repeats
		k := 0
		next := func() string {
			k++
			if sequential {
				return fmt.Sprintf("v%d", (k-1)%card)
			}
			return fmt.Sprintf("v%d", r.IntN(card))
		}
		rows := make([]flatten.Row, n)
		var idx []int32
		for i := range rows {
			idx = append(idx, int32(i))
			if r.Float64() < nulls {
				continue
			}
			var d flatten.Datum
			switch kind {
			case schemas.KindArray:
				d = flatten.Datum{Valid: true}
				for range r.IntN(4) {
					if r.IntN(5) == 0 {
						d.List = append(d.List, flatten.Datum{})
					} else {
						d.List = append(d.List, flatten.Datum{Valid: true, Str: next()})
					}
				}
			case schemas.KindMap:
				var kv []flatten.Datum
				for range 1 + r.IntN(3) {
					v := flatten.Datum{Valid: true, Str: next()}
					if r.IntN(5) == 0 {
						v = flatten.Datum{}
					}
					kv = append(kv, flatten.Datum{Valid: true, Str: next()}, v)
				}
				d = flatten.MapOf(kv...)
			default:
				d = flatten.Datum{Valid: true, Str: next()}
			}
			rows[i].Values = []flatten.Datum{{}, d}
		}
		if len(idx) > 2 && r.IntN(3) == 0 { // a file of some of the rows
			idx = idx[:r.IntN(len(idx))]
		}
		for _, keys := range []bool{false, true} {
			if keys && kind != schemas.KindMap {
				continue
			}
			want := repeatsByMap(map[string]struct{}{}, rows, idx, 1, kind, keys)
			got := e.repeats(rows, idx, 1, kind, keys)
			require.Equal(t, want, got, "trial %d: %d rows of kind %d, %d distinct, nulls %.1f, keys %v", trial, n, kind, card, nulls, keys)
			decided[want]++
		}
	}
	require.Greater(t, decided[true], trials/6, "too few columns that repeat")
	require.Greater(t, decided[false], trials/6, "too few columns that do not")
}

// TestStringSetAddsEachStringOnce checks that a full set (its probes
// running into each other) finds every string added and no other, and
// that reset empties it, also when the generation wraps.
func TestStringSetAddsEachStringOnce(t *testing.T) {
	t.Parallel()
	var s stringSet
	for range 3 {
		s.reset()
		for i := range dictSample {
			require.True(t, s.add(fmt.Sprint(i)), "%d is new", i)
		}
		for i := range dictSample {
			require.False(t, s.add(fmt.Sprint(i)), "%d was added", i)
		}
		require.Len(t, s.strs, dictSample)
	}
	s.gen = ^uint32(0) // the next reset wraps the generation
	s.reset()
	require.True(t, s.add("0"), "reset after the generation wrapped left a string in the set")
	s.release()
	require.Empty(t, s.strs)
}

// BenchmarkRepeats times the dictionary decision of one string column of
// a Lambda batch's rows (4,050), for a column of distinct values (ids)
// and one of 200 values (room ids), beside the map-based reference.
func BenchmarkRepeats(b *testing.B) {
	for _, card := range []int{0, 200} {
		rows := make([]flatten.Row, 4050)
		idx := make([]int32, len(rows))
		var size int64
		for i := range rows {
			v := fmt.Sprintf("MSG#%012d", i)
			if card > 0 {
				v = fmt.Sprintf("room-%04d", i%card)
			}
			rows[i].Values = []flatten.Datum{{Valid: true, Str: v}}
			idx[i] = int32(i)
			size += int64(len(v))
		}
		name := "distinct"
		if card > 0 {
			name = fmt.Sprintf("card%d", card)
		}
		b.Run(name+"/set", func(b *testing.B) {
			e := &Encoder{}
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				e.repeats(rows, idx, 0, schemas.KindString, false)
			}
		})
		b.Run(name+"/map", func(b *testing.B) {
			seen := make(map[string]struct{}, dictSample)
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				repeatsByMap(seen, rows, idx, 0, schemas.KindString, false)
			}
		})
	}
}
