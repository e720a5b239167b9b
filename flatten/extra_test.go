package flatten

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
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
