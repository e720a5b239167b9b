package flatten

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/schemas"
)

// refExtra is how _extra was rebuilt before extraTree: a tree of nodes on
// the heap, over SplitPath. extraTree must give the same bytes.
func refExtra(leaves []leaf) []byte {
	type node struct {
		names    []string
		children []*node
		value    *Value
	}
	child := func(n *node, name string) *node {
		for i, c := range n.names {
			if c == name {
				return n.children[i]
			}
		}
		c := &node{}
		n.names = append(n.names, name)
		n.children = append(n.children, c)
		return c
	}
	var render func(dst []byte, n *node) []byte
	render = func(dst []byte, n *node) []byte {
		dst = append(dst, '{')
		for i, name := range n.names {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSONString(dst, name)
			dst = append(dst, ':')
			c := n.children[i]
			if c.value != nil && len(c.names) == 0 {
				dst = AppendValueJSON(dst, *c.value)
				continue
			}
			dst = append(dst, `{"M":`...)
			dst = render(dst, c)
			dst = append(dst, '}')
		}
		return append(dst, '}')
	}
	root := &node{}
	for _, l := range leaves {
		n := root
		for _, seg := range SplitPath(l.path) {
			n = child(n, seg)
		}
		v := l.v
		n.value = &v
	}
	return render(nil, root)
}

// TestExtraTreeMatchesSplitPath checks that _extra rebuilt in reused
// memory nests exactly as SplitPath splits: escaped dots and backslashes,
// empty segments, a trailing backslash, a path twice, a leaf that is also
// a map's parent, across rows that reuse the tree.
func TestExtraTreeMatchesSplitPath(t *testing.T) {
	segs := []string{"a", "b", "a.b", `x\y`, "", `end\`, "😀", "a\\.b", "c"}
	r := rand.New(rand.NewPCG(3, 4))
	var tree extraTree
	for range 3000 {
		leaves := make([]leaf, 1+r.IntN(12))
		for i := range leaves {
			path := ""
			for d := 1 + r.IntN(4); d > 0; d-- {
				path = JoinPath(path, segs[r.IntN(len(segs))])
			}
			if r.IntN(20) == 0 {
				path += `\` // not made by JoinPath: a lone trailing backslash
			}
			leaves[i] = leaf{path: path, v: Value{Kind: N, S: string(rune('0' + i))}}
		}
		want := refExtra(leaves)
		if topLevel(leaves) {
			continue // the flat case is unchanged
		}
		require.Equal(t, string(want), string(tree.appendExtra(nil, leaves)), "leaves %v", leaves)
		require.Equal(t, string(want), string(appendExtra(nil, leaves)))
	}
}

// TestRowsInReusedBatch builds rows in a batch that was released after
// rows of other items (wider rows, longer lists, json and _extra): they
// must be the rows a fresh Flattener builds, with no cell, element or
// text left from the rows before, whatever the order of the batches.
func TestRowsInReusedBatch(t *testing.T) {
	wide := `{"a":{"S":"x"},"b":{"N":"1"},"c":{"L":[{"S":"p"},{"S":"q"},{"S":"r"}]},"d":{"M":{"k":{"S":"v"}}},"e":{"NULL":true},"f":{"BOOL":true},"g":{"L":[{"N":"1"},{"S":"mixed"}]},"h":{"M":{"x":{"M":{"y":{"S":"deep"}}}}}}`
	narrow := `{"a":{"S":"y"},"c":{"L":[{"S":"z"}]},"b":{"S":"not a number"}}`
	var batches [][]string
	for i := range 6 {
		batch := []string{wide, narrow}
		if i%2 == 1 {
			batch = []string{narrow, narrow, wide}
		}
		for k := range 1500 * (i % 3) { // past a chunk of cells, of text
			batch = append(batch, fmt.Sprintf(`{"a":{"S":"%d"},"g":{"L":[{"N":"%d"},{"BOOL":true}]},"z%d":{"NULL":true}}`, k, k, k%7))
		}
		batches = append(batches, batch)
	}
	s := schemas.NewSchema("t")
	for _, p := range [][2]string{{"a", "string"}, {"b", "bigint"}, {"c", "array<string>"}, {"d", "map<string,string>"}, {"f", "boolean"}, {"g", "json"}, {"h", "json"}} {
		typ, err := schemas.ParseType(p[1])
		require.NoError(t, err)
		_, err = s.Add(schemas.Column{Path: p[0], Type: typ})
		require.NoError(t, err)
	}
	render := func(b *Batch, items []string) []string {
		for i, in := range items {
			item, err := ParseItemBytes([]byte(in))
			require.NoError(t, err)
			b.AddItem(Meta{EventName: "INSERT", EventTime: int64(i)}, ItemOf(item))
		}
		rows, _ := b.Rows(nil, s)
		out := make([]string, len(rows))
		for i := range rows {
			out[i] = string(AppendRowJSON(nil, s, &rows[i]))
		}
		return out
	}
	reused, err := New(TableConfig{})
	require.NoError(t, err)
	for i, items := range batches {
		fresh, err := New(TableConfig{})
		require.NoError(t, err)
		want := render(fresh.NewBatch(), items)
		b := reused.NewBatch()
		require.Equal(t, want, render(b, items), "batch %d", i)
		b.Release()
	}
}
