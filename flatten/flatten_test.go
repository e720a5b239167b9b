package flatten

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/schemas"
)

// run flattens batches of DynamoDB JSON items in order, growing one schema
// as the pipeline does, and returns the schema and every row.
// run flattens batches of items under cfg, each batch's new columns
// added before its rows are built. It runs three ways and requires the
// same schema, rows and counts of each: the items' attributes through
// Batch.Add, the same as Items through Batch.AddItem, and AddItem again
// with what each batch's schema says learned (Flattener.Learn) before
// the next batch.
func run(t testing.TB, cfg TableConfig, batches ...[]string) (*schemas.Schema, []Row, Stats) {
	t.Helper()
	type result struct {
		s    *schemas.Schema
		rows []Row
		st   Stats
	}
	var results [3]result
	for way := range results {
		f, err := New(cfg)
		require.NoError(t, err)
		s := schemas.NewSchema("t")
		var rows []Row
		var st Stats
		for bi, batch := range batches {
			b := f.NewBatch() // not Reset: the rows kept share their batch's memory
			for i, in := range batch {
				item, err := ParseItemBytes([]byte(in))
				require.NoError(t, err, "batch %d item %d", bi, i)
				meta := Meta{EventName: "INSERT", EventTime: 1775001600000 + int64(i)}
				if way == 0 {
					b.Add(meta, item)
				} else {
					b.AddItem(meta, ItemOf(item))
				}
			}
			for _, c := range b.Propose(s) {
				_, err := s.Add(c)
				require.NoError(t, err)
			}
			var bst Stats
			rows, bst = b.Rows(rows, s)
			st.Add(bst)
			if way == 2 {
				f.Learn(s)
			}
		}
		results[way] = result{s, rows, st}
	}
	for way := 1; way < len(results); way++ {
		require.Equal(t, results[0].s.Columns, results[way].s.Columns, "way %d: columns", way)
		require.Equal(t, results[0].st, results[way].st, "way %d: counts", way)
		require.Equal(t, len(results[0].rows), len(results[way].rows), "way %d: rows", way)
		for i := range results[0].rows {
			require.Equal(t, results[0].rows[i], results[way].rows[i], "way %d: row %d", way, i)
		}
	}
	return results[1].s, results[1].rows, results[1].st
}

func colType(t testing.TB, s *schemas.Schema, name string) string {
	t.Helper()
	c, ok := s.Column(name)
	require.True(t, ok, "no column %q in %v", name, s.Columns)
	return c.Type.String()
}

func cell(t testing.TB, s *schemas.Schema, r Row, name string) Datum {
	t.Helper()
	for i, c := range s.Columns {
		if c.Name == name {
			if i < len(r.Values) {
				return r.Values[i]
			}
			return Datum{}
		}
	}
	t.Fatalf("no column %q", name)
	return Datum{}
}

func TestInferTypes(t *testing.T) {
	tests := []struct {
		name  string
		items []string
		want  string // type of column "a"; "" = no column
	}{
		{"string", []string{`{"a":{"S":"x"}}`}, "string"},
		{"bigint", []string{`{"a":{"N":"1"}}`, `{"a":{"N":"-9223372036854775808"}}`}, "bigint"},
		{"integer written with fraction zeros is bigint", []string{`{"a":{"N":"10.00"}}`}, "bigint"},
		{"decimal scale is the largest seen", []string{`{"a":{"N":"1"}}`, `{"a":{"N":"2.5"}}`, `{"a":{"N":"3.125"}}`}, "decimal(38,3)"},
		{"beyond int64 is decimal", []string{`{"a":{"N":"9223372036854775808"}}`}, "decimal(38,0)"},
		{"38 integer digits", []string{`{"a":{"N":"99999999999999999999999999999999999999"}}`}, "decimal(38,0)"},
		{"digits do not fit decimal(38,s)", []string{`{"a":{"N":"12345678901234567890123456789012345678"}}`, `{"a":{"N":"0.5"}}`}, "string"},
		{"tiny numbers are string", []string{`{"a":{"N":"1E-130"}}`}, "string"},
		{"binary", []string{`{"a":{"B":"AQ=="}}`}, "binary"},
		{"boolean", []string{`{"a":{"BOOL":false}}`}, "boolean"},
		{"string set", []string{`{"a":{"SS":["x","y"]}}`}, "array<string>"},
		{"number set of integers", []string{`{"a":{"NS":["1","2"]}}`}, "array<bigint>"},
		{"number set with fractions", []string{`{"a":{"NS":["1","2.25"]}}`}, "array<decimal(38,2)>"},
		{"binary set", []string{`{"a":{"BS":["AQ=="]}}`}, "array<binary>"},
		{"homogeneous list", []string{`{"a":{"L":[{"S":"x"},{"S":"y"}]}}`}, "array<string>"},
		{"homogeneous number list", []string{`{"a":{"L":[{"N":"1"},{"N":"2.5"}]}}`, `{"a":{"L":[{"N":"7"}]}}`}, "array<decimal(38,1)>"},
		{"bool list", []string{`{"a":{"L":[{"BOOL":true}]}}`}, "array<boolean>"},
		{"mixed list is json", []string{`{"a":{"L":[{"S":"x"},{"N":"1"}]}}`}, "json"},
		{"list of maps is json", []string{`{"a":{"L":[{"M":{"x":{"S":"y"}}}]}}`}, "json"},
		{"list with null is json", []string{`{"a":{"L":[{"S":"x"},{"NULL":true}]}}`}, "json"},
		{"first non-empty list decides", []string{`{"a":{"L":[]}}`, `{"a":{"L":[{"S":"x"}]}}`}, "array<string>"},
		{"null only: no column", []string{`{"a":{"NULL":true}}`}, ""},
		{"empty list only: no column", []string{`{"a":{"L":[]}}`}, ""},
		{"empty map only: no column", []string{`{"a":{"M":{}}}`}, ""},
		{"null then number", []string{`{"a":{"NULL":true}}`, `{"a":{"N":"5"}}`}, "bigint"},
		{"first kind wins", []string{`{"a":{"S":"x"}}`, `{"a":{"N":"5"}}`}, "string"},
		{"double is never inferred", []string{`{"a":{"N":"3.14159265358979"}}`}, "decimal(38,14)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, rows, _ := run(t, TableConfig{}, tc.items)
			require.Len(t, rows, len(tc.items))
			if tc.want == "" {
				_, ok := s.Column("a")
				require.False(t, ok)
				return
			}
			require.Equal(t, tc.want, colType(t, s, "a"))
		})
	}
}

func TestTypeNeverChanges(t *testing.T) {
	s, rows, st := run(t, TableConfig{},
		[]string{`{"a":{"N":"1"}}`},
		[]string{`{"a":{"N":"1.5"}}`, `{"a":{"S":"two"}}`, `{"a":{"N":"123456789012345678901234567890"}}`, `{"a":{"N":"3"}}`},
	)
	require.Equal(t, "bigint", colType(t, s, "a"))
	require.Len(t, s.Columns, 1, "misfits add no column")
	require.Equal(t, 3, st.Misfits)
	require.JSONEq(t, `{"a":{"N":"1.5"}}`, string(rows[1].Extra))
	require.JSONEq(t, `{"a":{"S":"two"}}`, string(rows[2].Extra))
	require.JSONEq(t, `{"a":{"N":"123456789012345678901234567890"}}`, string(rows[3].Extra))
	require.False(t, cell(t, s, rows[1], "a").Valid)
	require.Equal(t, int64(3), cell(t, s, rows[4], "a").Int)
	require.Nil(t, rows[4].Extra)
}

func TestDecimalMisfits(t *testing.T) {
	s, rows, _ := run(t, TableConfig{},
		[]string{`{"p":{"N":"12.50"}}`},
		[]string{`{"p":{"N":"0.125"}}`, `{"p":{"N":"-3"}}`, `{"p":{"N":"` + strings.Repeat("9", 38) + `"}}`, `{"p":{"N":"` + strings.Repeat("9", 37) + `"}}`})
	require.Equal(t, "decimal(38,1)", colType(t, s, "p"), "12.50 is 12.5")
	require.Equal(t, "12.5", cell(t, s, rows[0], "p").Str)
	require.False(t, cell(t, s, rows[1], "p").Valid, "scale 3 does not fit scale 1")
	require.JSONEq(t, `{"p":{"N":"0.125"}}`, string(rows[1].Extra))
	require.Equal(t, "-3.0", cell(t, s, rows[2], "p").Str)
	require.False(t, cell(t, s, rows[3], "p").Valid, "38 integer digits do not fit decimal(38,1)")
	require.Equal(t, strings.Repeat("9", 37)+".0", cell(t, s, rows[4], "p").Str, "37 do")
}

func TestNestedAndExtra(t *testing.T) {
	s, rows, st := run(t, TableConfig{}, []string{
		`{"sender":{"M":{"userId":{"S":"u1"},"profile":{"M":{"imageUrl":{"S":"https://x/1.png"},"age":{"N":"30"}}}}},"gone":{"NULL":true}}`,
		`{"sender":{"M":{"userId":{"S":"u2"},"profile":{"M":{"age":{"S":"thirty"}}}}}}`,
	})
	require.Equal(t, []string{"sender_user_id", "sender_profile_image_url", "sender_profile_age"},
		[]string{s.Columns[0].Name, s.Columns[1].Name, s.Columns[2].Name})
	require.Equal(t, "sender.profile.imageUrl", s.Columns[1].Path)
	require.JSONEq(t, `{"gone":{"NULL":true}}`, string(rows[0].Extra), "a NULL with no column is kept in _extra")
	require.JSONEq(t, `{"sender":{"M":{"profile":{"M":{"age":{"S":"thirty"}}}}}}`, string(rows[1].Extra))
	require.Equal(t, 1, st.Misfits, "the NULL is not a misfit")
}

func TestNullInExistingColumn(t *testing.T) {
	s, rows, st := run(t, TableConfig{}, []string{`{"a":{"S":"x"}}`}, []string{`{"a":{"NULL":true}}`})
	require.Equal(t, 0, st.Misfits)
	require.False(t, cell(t, s, rows[1], "a").Valid)
	require.JSONEq(t, `{"a":{"NULL":true}}`, string(rows[1].Extra), "as it was before the column existed")
}

// TestNullRule: a NULL, an empty list and an empty map are always kept in
// _extra, whether or not their column exists, and their cell is null; so
// a row does not depend on the columns the schema has gained, and NULL
// is told from absent.
func TestNullRule(t *testing.T) {
	s, rows, st := run(t, TableConfig{Depth: 1},
		[]string{`{"tags":{"L":[{"S":"x"}]},"m":{"M":{"k":{"S":"v"}}},"n":{"N":"1"}}`},
		[]string{`{"tags":{"L":[]},"m":{"M":{}},"n":{"NULL":true}}`, `{"tags":{"L":[]},"other":{"L":[]},"n":{"N":"2"}}`, `{"n":{"N":"3"}}`})
	require.Equal(t, "array<string>", colType(t, s, "tags"))
	require.Equal(t, "json", colType(t, s, "m"))
	require.False(t, cell(t, s, rows[1], "tags").Valid, "an empty list in an array column is null")
	require.False(t, cell(t, s, rows[1], "m").Valid, "an empty map in a JSON column is null")
	require.False(t, cell(t, s, rows[1], "n").Valid, "a NULL in a bigint column is null")
	require.JSONEq(t, `{"tags":{"L":[]},"m":{"M":{}},"n":{"NULL":true}}`, string(rows[1].Extra), "kept in _extra though their columns exist")
	require.JSONEq(t, `{"tags":{"L":[]},"other":{"L":[]}}`, string(rows[2].Extra), "and with no column")
	require.Nil(t, rows[3].Extra, "an absent attribute is not in _extra")
	require.Zero(t, st.Misfits, "empty values are not misfits")
	_, ok := s.Lookup("other")
	require.False(t, ok, "empty values make no column")
}

// TestNullRuleIgnoresSchemaState builds the same items' rows against a
// schema with no columns yet and one that has them all: the rows are the
// same, except that cells of values with no column are in _extra.
func TestNullRuleIgnoresSchemaState(t *testing.T) {
	items := []string{`{"a":{"NULL":true},"b":{"L":[]},"c":{"M":{}},"d":{"M":{"e":{"NULL":true}}}}`}
	f, err := New(TableConfig{})
	require.NoError(t, err)
	build := func(s *schemas.Schema) []Row {
		b := f.NewBatch()
		for _, it := range items {
			item, err := ParseItemBytes([]byte(it))
			require.NoError(t, err)
			b.Add(Meta{EventName: "INSERT"}, item)
		}
		rows, _ := b.Rows(nil, s)
		return rows
	}
	empty := schemas.NewSchema("t")
	full := schemas.NewSchema("t")
	for _, c := range []schemas.Column{
		{Name: "a", Path: "a", Type: schemas.String, Source: "S"},
		{Name: "b", Path: "b", Type: schemas.ArrayOf(schemas.String), Source: "L"},
		{Name: "c", Path: "c", Type: schemas.JSON, Source: "M"},
		{Name: "d_e", Path: JoinPath("d", "e"), Type: schemas.Bigint, Source: "N"},
	} {
		_, err := full.Add(c)
		require.NoError(t, err)
	}
	require.Equal(t, build(empty), build(full))
	require.JSONEq(t, `{"a":{"NULL":true},"b":{"L":[]},"c":{"M":{}},"d":{"M":{"e":{"NULL":true}}}}`, string(build(full)[0].Extra))
}

func TestDepthLimit(t *testing.T) {
	item := `{"a":{"M":{"b":{"M":{"c":{"M":{"d":{"S":"x"}}}}}}}}`
	s, rows, _ := run(t, TableConfig{Depth: 2}, []string{item})
	require.Len(t, s.Columns, 1)
	require.Equal(t, "a_b", s.Columns[0].Name)
	require.Equal(t, "json", s.Columns[0].Type.String())
	require.JSONEq(t, `{"M":{"c":{"M":{"d":{"S":"x"}}}}}`, cell(t, s, rows[0], "a_b").Str)

	s, _, _ = run(t, TableConfig{}, []string{item})
	require.Equal(t, "a_b_c_d", s.Columns[0].Name, "default depth 8 flattens 4 levels")
}

// testKey is the mask key of the tests.
var testKey = []byte("0123456789abcdef-test-mask-key")

// hmacHex is the mask the tests expect: hex HMAC-SHA-256 under testKey.
func hmacHex(data string) string {
	h := hmac.New(sha256.New, testKey)
	h.Write([]byte(data))
	return hex.EncodeToString(h.Sum(nil))
}

func TestOmitMaskExpand(t *testing.T) {
	cfg := TableConfig{
		Omit:    []string{"debug", "sender.profile.tmp", "*.secret"},
		Mask:    []string{"sender.phone", "token"},
		Expand:  []string{"meta", "bad"},
		MaskKey: testKey,
	}
	s, rows, st := run(t, cfg, []string{`{
		"debug":{"M":{"trace":{"S":"..."}}},
		"sender":{"M":{"phone":{"S":"010-1234-5678"},"profile":{"M":{"tmp":{"S":"x"},"nick":{"S":"당근"}}},"secret":{"S":"s"}}},
		"token":{"N":"12345"},
		"meta":{"S":"{\"source\":\"app\",\"ver\":3,\"geo\":{\"lat\":37.5,\"ok\":true}}"},
		"bad":{"S":"not json {"}}`})
	require.Equal(t, 3, st.Omitted)
	names := map[string]string{}
	for _, c := range s.Columns {
		names[c.Name] = c.Type.String()
	}
	require.Equal(t, map[string]string{
		"sender_phone": "string", "sender_profile_nick": "string", "token": "string",
		"meta_source": "string", "meta_ver": "bigint", "meta_geo_lat": "decimal(38,1)", "meta_geo_ok": "boolean",
		"bad": "string",
	}, names)
	require.Equal(t, hmacHex("010-1234-5678"), cell(t, s, rows[0], "sender_phone").Str)
	require.Equal(t, hmacHex("12345"), cell(t, s, rows[0], "token").Str)
	require.Equal(t, "37.5", cell(t, s, rows[0], "meta_geo_lat").Str)
	require.Equal(t, hmacHex("not json {"), cell(t, s, rows[0], "bad").Str,
		"text at an expand path that is not a JSON object is masked whole when a rule (*.secret) names a path inside it")
	require.Nil(t, rows[0].Extra)

	s, rows, _ = run(t, TableConfig{Expand: []string{"bad"}, Omit: []string{"other.x"}}, []string{`{"bad":{"S":"not json {"}}`})
	require.Equal(t, "not json {", cell(t, s, rows[0], "bad").Str, "with no rule inside it, text that is not a JSON object stays a string")
}

func TestExplode(t *testing.T) {
	s, rows, _ := run(t, TableConfig{Explode: []string{"attachments"}}, []string{
		`{"attachments":{"L":[{"M":{"url":{"S":"a.png"},"width":{"N":"640"}}},{"M":{"url":{"S":"b.png"}}}]}}`})
	var names []string
	for _, c := range s.Columns {
		names = append(names, c.Name)
	}
	require.Equal(t, []string{"attachments_0_url", "attachments_0_width", "attachments_1_url"}, names)
	require.Equal(t, "b.png", cell(t, s, rows[0], "attachments_1_url").Str)
}

func TestDeclaredTypes(t *testing.T) {
	cfg := TableConfig{Columns: map[string]string{
		"price": "decimal(12,2)", "payload": "json", "score": "double", "at": "timestamp", "createdAt": "timestamp",
		"sender.age": "string", "tags": "array<string>",
	}}
	s, rows, st := run(t, cfg, []string{
		`{"price":{"N":"1200.5"},"payload":{"M":{"k":{"S":"v"}}},"score":{"N":"0.1"},"at":{"S":"2026-04-01T09:00:00.123+09:00"},` +
			`"createdAt":{"N":"1775001600123"},"sender":{"M":{"age":{"N":"30"}}},"tags":{"SS":["a"]}}`,
		`{"price":{"N":"1.234"},"payload":{"S":"plain"},"at":{"N":"1775001600"}}`,
		`{"price":{"NULL":true}}`,
	})
	require.Equal(t, "decimal(12,2)", colType(t, s, "price"))
	require.Equal(t, "1200.50", cell(t, s, rows[0], "price").Str)
	require.JSONEq(t, `{"M":{"k":{"S":"v"}}}`, cell(t, s, rows[0], "payload").Str)
	require.Equal(t, 0.1, cell(t, s, rows[0], "score").Float)
	require.Equal(t, int64(1775001600123), cell(t, s, rows[0], "at").Int)
	require.Equal(t, int64(1775001600123), cell(t, s, rows[0], "created_at").Int)
	require.Equal(t, "30", cell(t, s, rows[0], "sender_age").Str)
	require.Equal(t, "timestamp", colType(t, s, "at"))
	require.True(t, s.Columns[0].Declared)

	require.False(t, cell(t, s, rows[1], "price").Valid, "scale 3 does not fit decimal(12,2)")
	require.JSONEq(t, `{"price":{"N":"1.234"}}`, string(rows[1].Extra))
	require.JSONEq(t, `{"S":"plain"}`, cell(t, s, rows[1], "payload").Str, "json takes any value")
	require.Equal(t, int64(1775001600000), cell(t, s, rows[1], "at").Int, "epoch seconds")
	require.Equal(t, 1, st.Misfits)
	require.False(t, cell(t, s, rows[2], "price").Valid)
	require.JSONEq(t, `{"price":{"NULL":true}}`, string(rows[2].Extra), "a NULL is kept in _extra, declared column or not")
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  TableConfig
		ok   bool
	}{
		{"zero", TableConfig{}, true},
		{"bad type", TableConfig{Columns: map[string]string{"a": "decimal(40,2)"}}, false},
		{"unknown type", TableConfig{Columns: map[string]string{"a": "varchar2"}}, false},
		{"depth", TableConfig{Depth: 33}, false},
		{"route ok", TableConfig{Routes: []Route{{Table: "messages", Attribute: "sk", Prefix: "MSG#"}}}, true},
		{"route both", TableConfig{Routes: []Route{{Table: "m", Attribute: "sk", Prefix: "A", Equals: "B"}}}, false},
		{"route bad table", TableConfig{Routes: []Route{{Table: "../x", Attribute: "sk", Prefix: "A"}}}, false},
		{"empty omit", TableConfig{Omit: []string{" "}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, ErrBadConfig)
			}
		})
	}
}

func TestRoute(t *testing.T) {
	cfg := TableConfig{Routes: []Route{
		{Table: "messages", Attribute: "sk", Prefix: "MSG#"},
		{Table: "members", Attribute: "type", Equals: "member"},
	}}
	item := func(s string) []Attr {
		a, err := ParseItemBytes([]byte(s))
		require.NoError(t, err)
		return a
	}
	require.Equal(t, "messages", cfg.Route(item(`{"pk":{"S":"ROOM#1"},"sk":{"S":"MSG#0001"}}`)))
	require.Equal(t, "members", cfg.Route(item(`{"pk":{"S":"ROOM#1"},"sk":{"S":"USER#1"},"type":{"S":"member"}}`)))
	require.Equal(t, "", cfg.Route(item(`{"pk":{"S":"ROOM#1"},"sk":{"S":"META"}}`)))
	require.Equal(t, "", cfg.Route(item(`{"sk":{"B":"AQ=="}}`)))
}

// TestBatchKeep drops items from a batch: the rest propose and build
// exactly what a batch of only them would.
func TestBatchKeep(t *testing.T) {
	items := []string{`{"a":{"S":"x"}}`, `{"b":{"N":"1.5"},"a":{"N":"1"}}`, `{"c":{"BOOL":true},"a":{"S":"y"}}`}
	f, err := New(TableConfig{})
	require.NoError(t, err)
	build := func(keep func(int) bool, only ...int) ([]schemas.Column, []Row) {
		b := f.NewBatch()
		for i, it := range items {
			if keep == nil && !slices.Contains(only, i) {
				continue
			}
			item, err := ParseItemBytes([]byte(it))
			require.NoError(t, err)
			b.Add(Meta{EventName: "INSERT", EventTime: int64(i)}, item)
		}
		if keep != nil {
			b.Keep(keep)
		}
		s := schemas.NewSchema("t")
		cols := b.Propose(s)
		for _, c := range cols {
			_, err := s.Add(c)
			require.NoError(t, err)
		}
		rows, _ := b.Rows(nil, s)
		return cols, rows
	}
	cols, rows := build(func(i int) bool { return i != 1 })
	wantCols, wantRows := build(nil, 0, 2)
	require.Equal(t, wantCols, cols)
	require.Equal(t, wantRows, rows)
	require.Len(t, rows, 2)
	cols, rows = build(func(int) bool { return false })
	require.Empty(t, cols)
	require.Empty(t, rows)
}

// TestBatchKeepMaps drops items that hold maps (a map with keys that read
// as data, which becomes a map column, and one of names, flattened): the
// items kept propose and build what a batch of only them would, their
// maps folded or flattened from their own values.
func TestBatchKeepMaps(t *testing.T) {
	items := []string{
		`{"readBy":{"M":{"u0uqeh6k":{"N":"1"},"u9x8y7z6":{"N":"2"}}},"sender":{"M":{"name":{"S":"a"}}}}`,
		`{"a":{"S":"x"},"readBy":{"M":{"u1a2b3c4":{"S":"late"},"u5d6e7f8":{"N":"3"}}}}`,
		`{"sender":{"M":{"name":{"S":"b"},"age":{"N":"4"}}},"readBy":{"M":{"u9z9z9z9":{"N":"5"}}}}`,
		`{"b":{"N":"1.5"}}`,
	}
	for drop := range items {
		t.Run(fmt.Sprint("drop ", drop), func(t *testing.T) {
			build := func(useKeep bool) ([]schemas.Column, []Row) {
				f, err := New(TableConfig{})
				require.NoError(t, err)
				b := f.NewBatch()
				for i, it := range items {
					if !useKeep && i == drop {
						continue
					}
					item, err := ParseItemBytes([]byte(it))
					require.NoError(t, err)
					b.AddItem(Meta{EventName: "INSERT", EventTime: int64(i)}, ItemOf(item))
				}
				if useKeep {
					b.Keep(func(i int) bool { return i != drop })
				}
				s := schemas.NewSchema("t")
				cols := b.Propose(s)
				for _, c := range cols {
					_, err := s.Add(c)
					require.NoError(t, err)
				}
				rows, _ := b.Rows(nil, s)
				return cols, rows
			}
			cols, rows := build(true)
			wantCols, wantRows := build(false)
			require.Equal(t, wantCols, cols)
			require.Equal(t, wantRows, rows)
		})
	}
}
