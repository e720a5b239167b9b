package flatten

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/schemas"
)

// TestColumnMemoMatchesLookup checks the cache of Rows against the
// schema's own lookup: for the same path strings asked again, for equal
// paths in strings of their own (not the one cached), for paths that
// share a slot, for paths without a column, and for the empty path.
func TestColumnMemoMatchesLookup(t *testing.T) {
	t.Parallel()
	s := schemas.NewSchema("t")
	for i := range 300 {
		_, err := s.Add(schemas.Column{Name: fmt.Sprintf("c%d", i), Path: fmt.Sprintf("a.c%d", i), Type: schemas.String})
		require.NoError(t, err)
	}
	m := columnMemo{s: s}
	var paths []string
	for i := range 2000 { // more paths than slots: they share slots
		paths = append(paths, fmt.Sprintf("a.c%d", i%600))
	}
	paths = append(paths, "", "a", "a.c1.x")
	for round := range 3 {
		for _, p := range paths {
			if round == 2 {
				p = strings.Clone(p) // equal text, another string
			}
			wi, wok := s.Lookup(p)
			gi, gok := m.lookup(p)
			require.Equal(t, wok, gok, "path %q", p)
			if wok {
				require.Equal(t, wi, gi, "path %q", p)
			}
		}
	}
}
