package flatten

import (
	"sort"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/schemas"
)

// FuzzFlatten checks that no input panics and that nothing is lost: for
// every valid item, rebuilding an item from the row's typed cells and its
// _extra gives the original item back (numbers compared by value, and a
// NULL that has a column read back as null).
func FuzzFlatten(f *testing.F) {
	for _, seed := range []string{
		`{"a":{"S":"x"},"n":{"N":"1.5"},"m":{"M":{"x":{"N":"1"},"y":{"L":[{"S":"a"},{"N":"2"}]}}}}`,
		`{"a":{"N":"1"},"b":{"NS":["1","2.5"]},"c":{"SS":["x"]},"d":{"BS":["AQ=="]},"e":{"NULL":true}}`,
		`{"userId":{"S":"u"},"user_id":{"N":"3"},"USER_ID":{"BOOL":true},"메모":{"S":"k"}}`,
		`{"l":{"L":[]},"m":{"M":{}},"x":{"L":[{"BOOL":true},{"BOOL":false}]},"big":{"N":"99999999999999999999999999999999999999"}}`,
		`{"a.b":{"M":{"c\\d":{"S":"x"}}},"dt":{"S":"2026"}}`,
		`{"readBy":{"M":{"u0uqeh6k":{"N":"1"},"bob":{"S":"x"},"n":{"NULL":true},"e":{"L":[]}}},"r":{"M":{"🥕":{"M":{"a":{"N":"1"}}}}}}`,
	} {
		f.Add([]byte(seed), []byte(`{"a":{"S":"later"},"n":{"N":"7"},"readBy":{"M":{"u9x8y7z6":{"S":"s"},"u1":{"N":"2"}}}}`))
	}
	f.Fuzz(func(t *testing.T, first, second []byte) {
		fl, err := New(TableConfig{Depth: 3})
		require.NoError(t, err)
		s := schemas.NewSchema("t")
		b := fl.NewBatch()
		for _, in := range [][]byte{first, second} {
			item, err := ParseItemBytes(in)
			if err != nil {
				continue
			}
			require.Equal(t, item, ItemOf(item).Attrs(), "an Item holds its attributes")
			b.Reset()
			b.Add(Meta{EventName: "INSERT"}, item)
			byNodes := fl.NewBatch()
			byNodes.AddItem(Meta{EventName: "INSERT"}, ItemOf(item))
			cols := b.Propose(s)
			require.Equal(t, cols, byNodes.Propose(s), "AddItem proposes what Add does")
			for _, c := range cols {
				_, err := s.Add(c)
				require.NoError(t, err)
			}
			rows, st := b.Rows(nil, s)
			rowsByNodes, stByNodes := byNodes.Rows(nil, s)
			require.Equal(t, rows, rowsByNodes, "AddItem gives the rows Add does")
			require.Equal(t, st, stByNodes)
			byNodes.Release()
			require.Len(t, rows, 1)
			for _, c := range s.Columns {
				require.Regexp(t, `^[a-z0-9_]{1,255}$`, c.Name)
			}
			got := unflatten(t, s, rows[0])
			require.Equal(t, canonical(item, s, ""), canonical(got, s, ""), "row %s", AppendRowJSON(nil, s, &rows[0]))
		}
	})
}

// unflatten rebuilds an item from a row: each valid cell at its column's
// path, then _extra merged in.
func unflatten(t *testing.T, s *schemas.Schema, r Row) []Attr {
	var item []Attr
	for i, d := range r.Values {
		if !d.Valid {
			continue
		}
		c := s.Columns[i]
		item = setPath(item, SplitPath(c.Path), datumValue(t, c, d))
	}
	if r.Extra != nil {
		extra, err := ParseItemBytes(r.Extra)
		require.NoError(t, err, "_extra is a DynamoDB JSON item: %s", r.Extra)
		item = mergeItem(item, extra)
	}
	return item
}

func datumValue(t *testing.T, c schemas.Column, d Datum) Value {
	src, _ := KindOf(c.Source)
	switch c.Type.Kind {
	case schemas.KindString:
		return Value{Kind: src, S: d.Str} // S, or N too wide for decimal
	case schemas.KindBigint:
		return Value{Kind: N, S: strconv.FormatInt(d.Int, 10)}
	case schemas.KindDecimal:
		return Value{Kind: N, S: d.Str}
	case schemas.KindBoolean:
		return Value{Kind: BOOL, Bool: d.Bool}
	case schemas.KindBinary:
		return Value{Kind: B, B: d.Bytes}
	case schemas.KindJSON:
		item, err := ParseItemBytes([]byte(`{"v":` + d.Str + `}`))
		require.NoError(t, err)
		return item[0].Value
	case schemas.KindArray:
		elem := map[schemas.Kind]Kind{schemas.KindString: S, schemas.KindBigint: N, schemas.KindDecimal: N,
			schemas.KindBinary: B, schemas.KindBoolean: BOOL}[c.Type.Elem.Kind]
		if src == NS {
			elem = N
		}
		l := make([]Value, len(d.List))
		for i, e := range d.List {
			l[i] = datumValue(t, schemas.Column{Type: *c.Type.Elem, Source: elem.String()}, e)
		}
		return Value{Kind: src, L: l}
	case schemas.KindMap:
		elem := map[schemas.Kind]Kind{schemas.KindString: S, schemas.KindBigint: N, schemas.KindDecimal: N,
			schemas.KindBinary: B, schemas.KindBoolean: BOOL}[c.Type.Elem.Kind]
		m := make([]Attr, d.MapLen())
		for i := range m {
			v := Value{Kind: NULL}
			if e := d.MapValue(i); e.Valid {
				v = datumValue(t, schemas.Column{Type: *c.Type.Elem, Source: elem.String()}, *e)
			}
			m[i] = Attr{Name: d.MapKey(i), Value: v}
		}
		return Value{Kind: M, M: m}
	}
	t.Fatalf("unexpected column type %s", c.Type)
	return Value{}
}

func setPath(attrs []Attr, segs []string, v Value) []Attr {
	for i := range attrs {
		if attrs[i].Name == segs[0] {
			if len(segs) == 1 {
				attrs[i].Value = v
			} else {
				attrs[i].Value.M = setPath(attrs[i].Value.M, segs[1:], v)
			}
			return attrs
		}
	}
	if len(segs) == 1 {
		return append(attrs, Attr{Name: segs[0], Value: v})
	}
	return append(attrs, Attr{Name: segs[0], Value: Value{Kind: M, M: setPath(nil, segs[1:], v)}})
}

func mergeItem(dst, src []Attr) []Attr {
	for _, a := range src {
		merged := false
		for i := range dst {
			if dst[i].Name == a.Name && dst[i].Value.Kind == M && a.Value.Kind == M {
				dst[i].Value.M = mergeItem(dst[i].Value.M, a.Value.M)
				merged = true
			}
		}
		if !merged {
			dst = append(dst, a)
		}
	}
	return dst
}

// canonical renders an item with sorted names and numbers by value,
// leaving out NULLs, empty lists and empty maps whose path has a column
// (they read back as null).
func canonical(attrs []Attr, s *schemas.Schema, path string) string {
	sorted := append([]Attr(nil), attrs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	out := "{"
	for _, a := range sorted {
		p := JoinPath(path, a.Name)
		if isEmpty(a.Value) {
			if _, ok := s.Lookup(p); ok {
				continue
			}
		}
		out += strconv.Quote(a.Name) + ":" + canonicalValue(a.Value, s, p) + ","
	}
	return out + "}"
}

func canonicalValue(v Value, s *schemas.Schema, path string) string {
	switch v.Kind {
	case N:
		n, _ := ParseNumber(v.S)
		return "N:" + n.String()
	case M:
		if i, ok := s.Lookup(path); ok && s.Columns[i].Type.Kind != schemas.KindMap { // kept whole as JSON
			return "M:" + string(AppendValueJSON(nil, canonicalNumbers(v)))
		}
		return canonical(v.M, s, path)
	case L, NS:
		return string(AppendValueJSON(nil, canonicalNumbers(v)))
	}
	return string(AppendValueJSON(nil, v))
}

func canonicalNumbers(v Value) Value {
	switch v.Kind {
	case N:
		n, _ := ParseNumber(v.S)
		v.S = n.String()
	case L, NS:
		l := make([]Value, len(v.L))
		for i, e := range v.L {
			l[i] = canonicalNumbers(e)
		}
		v.L = l
	case M:
		m := make([]Attr, len(v.M))
		for i, a := range v.M {
			m[i] = Attr{a.Name, canonicalNumbers(a.Value)}
		}
		v.M = m
	}
	return v
}
