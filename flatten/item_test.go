package flatten

import (
	"fmt"
	"reflect"
	"testing"
)

// recycleAttrs is an item of every kind, with nesting, that differs by n.
func recycleAttrs(n int) []Attr {
	return []Attr{
		{Name: "id", Value: Value{Kind: S, S: fmt.Sprintf("item-%d", n)}},
		{Name: "n", Value: Value{Kind: N, S: fmt.Sprint(n)}},
		{Name: "b", Value: Value{Kind: B, B: []byte{byte(n), 1, 2}}},
		{Name: "ok", Value: Value{Kind: BOOL, Bool: n%2 == 0}},
		{Name: "nil", Value: Value{Kind: NULL}},
		{Name: "m", Value: Value{Kind: M, M: []Attr{
			{Name: "deep", Value: Value{Kind: M, M: []Attr{{Name: "x", Value: Value{Kind: N, S: fmt.Sprint(-n)}}}}},
			{Name: "l", Value: Value{Kind: L, L: []Value{{Kind: S, S: "a"}, {Kind: M, M: []Attr{{Name: "y", Value: Value{Kind: BOOL}}}}}}},
		}}},
		{Name: "ss", Value: Value{Kind: SS, L: []Value{{Kind: S, S: "s1"}, {Kind: S, S: fmt.Sprint("s", n)}}}},
	}
}

// buildItems builds count items with b, each recycleAttrs(first+i).
func buildItems(b *ItemBuilder, first, count int) []Item {
	var out []Item
	for i := range count {
		b.Begin()
		b.addAttrs(recycleAttrs(first + i))
		out = append(out, b.Item())
	}
	return out
}

// TestItemBuilderRecycle checks that items built after Recycle are read
// back whole, batch after batch, and that once recycling, a batch no
// larger than the one before is built in the memory of that one.
func TestItemBuilderRecycle(t *testing.T) {
	var b ItemBuilder
	const count = 2000 // several chunks
	for round := range 4 {
		items := buildItems(&b, round*count, count)
		for i, it := range items {
			if got, want := it.Attrs(), recycleAttrs(round*count+i); !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d, item %d: %v, want %v", round, i, got, want)
			}
		}
		b.Recycle()
	}
	allocs := testing.AllocsPerRun(3, func() {
		b.Recycle()
		for range count {
			b.Begin()
			b.Text("id", S, "x")
			b.Open("m", M)
			b.Null("a")
			b.Bool("b", true)
			b.Close()
			b.Item()
		}
	})
	if allocs > 0 {
		t.Errorf("a recycled batch of %d items allocated %.0f times", count, allocs)
	}
}

// TestItemBuilderNoRecycleKeepsNothing checks that a builder never
// recycled holds no chunk besides the one it cuts from, so that the
// items it built are left to the collector.
func TestItemBuilderNoRecycleKeepsNothing(t *testing.T) {
	var b ItemBuilder
	buildItems(&b, 0, 5000)
	if len(b.used)+len(b.free) != 0 {
		t.Errorf("a builder never recycled keeps %d chunks", len(b.used)+len(b.free))
	}
}

// TestBatchExpect checks that a batch told how many more items like its
// first will come takes them without growing its leaves again, that a
// batch reused with room enough keeps its memory, and that the room
// asked for never takes a batch past the size kept for reuse.
func TestBatchExpect(t *testing.T) {
	f, err := New(TableConfig{})
	if err != nil {
		t.Fatal(err)
	}
	items := make([]Item, 3000)
	for i := range items {
		items[i] = ItemOf(recycleAttrs(i))
	}
	b := f.NewBatch()
	b.AddItem(Meta{}, items[0])
	b.Expect(len(items) - 1)
	leaves := cap(b.leaves)
	for _, it := range items[1:] {
		b.AddItem(Meta{}, it)
	}
	if cap(b.leaves) != leaves {
		t.Errorf("leaves grew from %d to %d for %d items", leaves, cap(b.leaves), len(items))
	}
	b.Reset()
	b.AddItem(Meta{}, items[0])
	b.Expect(len(items) / 2)
	if cap(b.leaves) != leaves {
		t.Errorf("a reused batch with room grew its leaves from %d to %d", leaves, cap(b.leaves))
	}
	b.Reset()
	b.AddItem(Meta{}, items[0])
	b.Expect(1 << 30)
	if cap(b.leaves) > maxKeptLeaves {
		t.Errorf("room for %d leaves asked, past the %d kept for reuse", cap(b.leaves), maxKeptLeaves)
	}
}
