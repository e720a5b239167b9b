package flatten

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// infer folds batches of DynamoDB JSON items into one Inferrer.
func infer(t testing.TB, cfg TableConfig, batches ...[]string) map[string]Inferred {
	t.Helper()
	f, err := New(cfg)
	require.NoError(t, err)
	in := NewInferrer()
	b := f.NewBatch()
	for bi, batch := range batches {
		b.Reset()
		for i, s := range batch {
			item, err := ParseItemBytes([]byte(s))
			require.NoError(t, err, "batch %d item %d", bi, i)
			b.Add(Meta{EventName: "INSERT", EventTime: 1775001600000}, item)
		}
		in.Add(b)
	}
	out := map[string]Inferred{}
	for _, c := range in.Columns() {
		out[c.Path] = c
	}
	return out
}

func TestInferrerWidens(t *testing.T) {
	const big30 = "123456789012345678901234567890"
	tests := []struct {
		name    string
		batches [][]string
		want    string // type of path v; "" for none
		kinds   string
	}{
		{"integers", [][]string{{`{"v":{"N":"1"}}`}, {`{"v":{"N":"-42"}}`}}, "bigint", "N"},
		{"integer then fraction in a later batch", [][]string{{`{"v":{"N":"1"}}`, `{"v":{"N":"20"}}`}, {`{"v":{"N":"2.5"}}`}}, "decimal(38,1)", "N"},
		{"largest scale wins", [][]string{{`{"v":{"N":"12.5"}}`}, {`{"v":{"N":"1.125"}}`}, {`{"v":{"N":"7"}}`}}, "decimal(38,3)", "N"},
		{"integer beyond int64", [][]string{{`{"v":{"N":"1"}}`}, {`{"v":{"N":"99999999999999999999"}}`}}, "decimal(38,0)", "N"},
		{"digits do not fit decimal(38,s)", [][]string{{`{"v":{"N":"` + big30 + `"}}`}, {`{"v":{"N":"0.0000000001"}}`}}, "string", "N"},
		{"trailing zeros are not scale", [][]string{{`{"v":{"N":"1.50"}}`}, {`{"v":{"N":"3.000"}}`}}, "decimal(38,1)", "N"},
		{"string", [][]string{{`{"v":{"S":"a"}}`}, {`{"v":{"S":"b"}}`}}, "string", "S"},
		{"boolean", [][]string{{`{"v":{"BOOL":true}}`}}, "boolean", "BOOL"},
		{"binary", [][]string{{`{"v":{"B":"AAE="}}`}}, "binary", "B"},
		{"N then S in another batch", [][]string{{`{"v":{"N":"1"}}`}, {`{"v":{"S":"one"}}`}}, "json", "S,N"},
		{"S and N in one batch", [][]string{{`{"v":{"S":"one"}}`, `{"v":{"N":"1"}}`}}, "json", "S,N"},
		{"NS and L of N", [][]string{{`{"v":{"NS":["1"]}}`}, {`{"v":{"L":[{"N":"1"}]}}`}}, "json", "L,NS"},
		{"null then number", [][]string{{`{"v":{"NULL":true}}`}, {`{"v":{"N":"3"}}`}}, "bigint", "N"},
		{"only nulls", [][]string{{`{"v":{"NULL":true}}`}, {`{"v":{"NULL":true}}`}}, "", ""},
		{"string set", [][]string{{`{"v":{"SS":["a","b"]}}`}}, "array<string>", "SS"},
		{"binary set", [][]string{{`{"v":{"BS":["AAE="]}}`}}, "array<binary>", "BS"},
		{"number set widens its element", [][]string{{`{"v":{"NS":["1","2"]}}`}, {`{"v":{"NS":["1.25"]}}`}}, "array<decimal(38,2)>", "NS"},
		{"number set too wide", [][]string{{`{"v":{"NS":["` + big30 + `"]}}`}, {`{"v":{"NS":["0.0000000001"]}}`}}, "array<string>", "NS"},
		{"list of numbers widens its element", [][]string{{`{"v":{"L":[{"N":"1"},{"N":"2"}]}}`}, {`{"v":{"L":[{"N":"2.25"}]}}`}}, "array<decimal(38,2)>", "L"},
		{"list of numbers too wide", [][]string{{`{"v":{"L":[{"N":"` + big30 + `"}]}}`}, {`{"v":{"L":[{"N":"0.0000000001"}]}}`}}, "json", "L"},
		{"lists of different element kinds", [][]string{{`{"v":{"L":[{"S":"a"}]}}`}, {`{"v":{"L":[{"N":"1"}]}}`}}, "json", "L"},
		{"mixed list", [][]string{{`{"v":{"L":[{"S":"a"},{"N":"1"}]}}`}}, "json", "L"},
		{"list of maps", [][]string{{`{"v":{"L":[{"M":{"a":{"S":"x"}}}]}}`}}, "json", "L"},
		{"empty list then strings", [][]string{{`{"v":{"L":[]}}`}, {`{"v":{"L":[{"S":"a"}]}}`}}, "array<string>", "L"},
		{"list of booleans", [][]string{{`{"v":{"L":[{"BOOL":true}]}}`}}, "array<boolean>", "L"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := infer(t, TableConfig{}, tt.batches...)
			c, ok := got["v"]
			require.True(t, ok, "path v not seen: %v", got)
			require.Equal(t, tt.kinds, c.Kinds)
			if tt.want == "" {
				require.Zero(t, c.Type, "no type from %v", tt.batches)
				require.Equal(t, NoteOnlyEmpty, c.Note)
				return
			}
			require.Equal(t, tt.want, c.Type.String())
			require.Empty(t, c.Note)
			requireNoMisfits(t, got, tt.batches)
		})
	}
}

// requireNoMisfits declares every inferred type and flattens the batches
// again, as a replay with the inferred configuration does: no value may
// land in _extra, whatever batch creates the column.
func requireNoMisfits(t *testing.T, inferred map[string]Inferred, batches [][]string) {
	t.Helper()
	cfg := TableConfig{Columns: map[string]string{}}
	for _, c := range inferred {
		if c.Type.Kind != 0 {
			cfg.Columns[configPath(c.Path)] = c.Type.String()
		}
	}
	_, rows, st := run(t, cfg, batches...)
	require.Zero(t, st.Misfits, "declared %v", cfg.Columns)
	for _, r := range rows {
		if r.Extra != nil { // only the empty values the NULL rule keeps there
			extra, err := ParseItemBytes(r.Extra)
			require.NoError(t, err)
			for _, a := range extra {
				require.True(t, isEmpty(a.Value), "%s in _extra: %s", a.Name, r.Extra)
			}
		}
	}
}

// configPath writes a path the way a configuration does (no '.' inside
// names in these tests).
func configPath(p string) string {
	segs := SplitPath(p)
	out := segs[0]
	for _, s := range segs[1:] {
		out += "." + s
	}
	return out
}

func TestInferrerNestedAndDeclared(t *testing.T) {
	batches := [][]string{
		{`{"id":{"S":"1"},"price":{"N":"10"},"meta":{"S":"plain"},"sender":{"M":{"age":{"N":"30"}}}}`},
		{`{"id":{"S":"2"},"price":{"N":"10.5"},"meta":{"M":{"a":{"N":"1"}}},"sender":{"M":{"age":{"N":"30.5"}}},"deep":{"M":{"x":{"M":{"y":{"S":"z"}}}}}}`},
	}
	got := infer(t, TableConfig{Columns: map[string]string{"price": "decimal(12,2)"}, Depth: 2}, batches...)

	require.True(t, got["price"].Declared)
	require.Equal(t, "decimal(12,2)", got["price"].Type.String(), "a declared type is kept")
	require.Equal(t, "decimal(38,1)", got["sender.age"].Type.String())
	require.Equal(t, "bigint", got["meta.a"].Type.String())
	require.Zero(t, got["meta"].Type, "a path that is also a map is not declared")
	require.Equal(t, NoteAlsoMap, got["meta"].Note)
	require.Equal(t, "json", got["deep.x"].Type.String(), "a map past the depth limit is json")
	require.Equal(t, 2, got["id"].Values)
}

func TestInferrerEscapedPaths(t *testing.T) {
	got := infer(t, TableConfig{}, []string{`{"a.b":{"M":{"c":{"N":"1"}}},"a":{"S":"x"}}`})
	require.Equal(t, "bigint", got[JoinPath(JoinPath("", "a.b"), "c")].Type.String())
	require.Equal(t, "string", got["a"].Type.String(), `"a" is not the parent of the escaped "a.b"`)
}

func TestInferrerMerge(t *testing.T) {
	items := []string{
		`{"v":{"N":"1"},"s":{"SS":["a"]}}`,
		`{"v":{"N":"1.5"},"w":{"NULL":true}}`,
		`{"v":{"S":"x"},"w":{"BOOL":false}}`,
	}
	f, err := New(TableConfig{})
	require.NoError(t, err)
	whole := NewInferrer()
	merged := NewInferrer()
	for _, s := range items {
		item, err := ParseItemBytes([]byte(s))
		require.NoError(t, err)
		b := f.NewBatch()
		b.Add(Meta{}, item)
		whole.Add(b)
		part := NewInferrer()
		part.Add(b)
		merged.Merge(part)
	}
	require.Equal(t, whole.Columns(), merged.Columns())
	require.Equal(t, 3, merged.Len())
}

// TestInferrerMaps checks that maps keyed by data are proposed as one map
// column over everything seen (even when each batch alone would have
// flattened them), and that nothing is proposed inside them.
func TestInferrerMaps(t *testing.T) {
	var batches [][]string
	for i := range 40 {
		// Each batch holds two readers whose ids read as names; over all
		// batches they are many, in disjoint pairs.
		a, b := fmt.Sprintf("reader%c%c", 'a'+i%26, 'a'+i/26), fmt.Sprintf("friend%c%c", 'a'+i%26, 'a'+i/26)
		batches = append(batches, []string{
			fmt.Sprintf(`{"id":{"S":"%d"},"readBy":{"M":{%q:{"N":"1"},%q:{"N":"2.5"}}},"profile":{"M":{"name":{"S":"x"},"age":{"N":"3"}}}}`, i, a, b),
		})
	}
	batches = append(batches, []string{`{"reactions":{"M":{"🥕":{"N":"3"},"👍":{"N":"1"}}},"seen":{"M":{"u0uqeh6k":{"M":{"ts":{"N":"1"}}}}}}`})
	got := infer(t, TableConfig{}, batches...)
	require.Equal(t, "map<string,decimal(38,1)>", got["readBy"].Type.String())
	require.Equal(t, 40, got["readBy"].Values)
	require.Equal(t, "map<string,bigint>", got["reactions"].Type.String())
	require.Equal(t, "map<string,json>", got["seen"].Type.String())
	require.Equal(t, "string", got["profile.name"].Type.String())
	require.Equal(t, "bigint", got["profile.age"].Type.String())
	for path := range got {
		require.NotContains(t, path, "readBy.", "nothing is proposed inside a map column")
		require.NotContains(t, path, "reactions.")
		require.NotContains(t, path, "seen.")
	}
	require.Len(t, got, 6)

	// Declarations win: flatten keeps columns per key, map<...> is kept.
	got = infer(t, TableConfig{Columns: map[string]string{"reactions": "flatten", "seen": "map<string,string>"}}, batches[len(batches)-1])
	require.Equal(t, "bigint", got[JoinPath("reactions", "🥕")].Type.String())
	require.True(t, got["seen"].Declared)
	require.Equal(t, "map<string,string>", got["seen"].Type.String())
}

func TestInferrerMapsMerge(t *testing.T) {
	items := []string{
		`{"readBy":{"M":{"alice":{"N":"1"},"bob":{"N":"1"}}}}`,
		`{"readBy":{"M":{"carol":{"N":"1"},"dave":{"N":"2.5"}}}}`,
		`{"readBy":{"M":{"alice":{"N":"1"}}}}`,
	}
	f, err := New(TableConfig{})
	require.NoError(t, err)
	whole, merged := NewInferrer(), NewInferrer()
	for i := len(items) - 1; i >= 0; i-- {
		item, err := ParseItemBytes([]byte(items[i]))
		require.NoError(t, err)
		b := f.NewBatch()
		b.Add(Meta{}, item)
		part := NewInferrer()
		part.Add(b)
		merged.Merge(part)
	}
	b := f.NewBatch()
	for _, s := range items {
		item, err := ParseItemBytes([]byte(s))
		require.NoError(t, err)
		b.Add(Meta{}, item)
	}
	whole.Add(b)
	require.Equal(t, whole.Columns(), merged.Columns())
	require.Len(t, merged.Columns(), 1)
	require.Equal(t, "map<string,decimal(38,1)>", merged.Columns()[0].Type.String())
}
