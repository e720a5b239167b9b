package flatten

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/schemas"
)

func TestDataKey(t *testing.T) {
	for _, name := range []string{
		"imageUrl", "region", "mannerTemperature", "userId", "USER_ID", "a", "x509Cert", "address2",
		"s3Key", "md5Checksum", "utf8", "ipv4Address", "content-type", "_id", "$type", "@timestamp",
		"deadbeef", "getHTTPResponseCode", "v2", "u123", "iso8601", "sha256",
	} {
		require.False(t, DataKey(name), "%q reads as a field name", name)
	}
	for _, data := range []string{
		"", "🥕", "👍", "감사", "메모", "0", "42", "2026-04-01", "1775001600",
		"550e8400-e29b-41d4-a716-446655440000", "01KN3M91YPHGJ1PJYBM04X8QPP", "7dca8088fd837131cd08",
		"u0uqeh6k", "ui1s1jnb", "u8dxcr12", "abc123", "user12345", "kXfQLmNPzYwT", "USER#42", "MSG#01",
		"a.b", "a b", "user@example.com", "x:y", "__id", "_", "-x", strings.Repeat("a", 65),
	} {
		require.True(t, DataKey(data), "%q reads as data", data)
	}
}

func TestMapStatsRules(t *testing.T) {
	require.False(t, MapStats([]string{"imageUrl", "region"}, []string{"region"}), "a struct")
	require.True(t, MapStats([]string{"imageUrl", "👍"}), "one data key is enough")
	require.True(t, MapStats([]string{"alice", "bob"}, []string{"carol", "dave"}), "two maps of ids sharing no key")
	require.False(t, MapStats([]string{"width", "height"}, []string{"width"}, []string{"height", "depth"}),
		"optional fields that overlap")
	require.False(t, MapStats([]string{"text"}, []string{"image"}), "one-key variants share nothing but are too small to say")
	var many [][]string
	for i := range MapKeysLimit {
		many = append(many, []string{fmt.Sprintf("name%c%c", 'a'+i%26, 'a'+i/26)})
	}
	require.False(t, MapStats(many...), "%d distinct names", MapKeysLimit)
	require.True(t, MapStats(append(many, []string{"onemore"})...), "past %d distinct keys", MapKeysLimit)
}

// TestMapStatsMergeOrder checks that the key rules give one answer
// whatever the order maps are seen or merged in: infer merges the stats of
// parallel workers.
func TestMapStatsMergeOrder(t *testing.T) {
	sets := [][]string{{"a", "b"}, {"b", "c"}, {"c", "d"}, {"d", "e"}, {"x"}, {"a", "e"}}
	for split := range len(sets) + 1 {
		for _, rev := range []bool{false, true} {
			left, right := newMapStats(), newMapStats()
			for i, s := range sets {
				attrs := []Attr{}
				for _, k := range s {
					attrs = append(attrs, Attr{Name: k})
				}
				if i < split {
					left.addKeys(attrs)
				} else {
					right.addKeys(attrs)
				}
			}
			if rev {
				left, right = right, left
			}
			left.merge(right)
			require.True(t, left.isMap(), "split %d: {a,b} and {c,d} share no key", split)
			require.Equal(t, len(sets), left.maps)
		}
	}
}

// readBy returns a message item whose readBy map has the given readers.
func readByItem(id int, readers ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"roomId":{"S":"r1"},"sk":{"S":"MSG#%04d"},"readBy":{"M":{`, id)
	for i, r := range readers {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `%q:{"N":"%d"}`, r, 1775001600000+int64(i))
	}
	b.WriteString(`}}}`)
	return b.String()
}

func TestIDKeyedMapIsOneColumn(t *testing.T) {
	var batch []string
	for i := range 500 {
		batch = append(batch, readByItem(i, fmt.Sprintf("u%07d", i), fmt.Sprintf("u%07d", i+1)))
	}
	s, rows, st := run(t, TableConfig{}, batch)
	require.Equal(t, []string{"room_id", "sk", "read_by"}, names(s))
	require.Equal(t, "map<string,bigint>", colType(t, s, "read_by"))
	c, _ := s.Column("read_by")
	require.Equal(t, "readBy", c.Path)
	require.Equal(t, "M", c.Source)
	d := cell(t, s, rows[7], "read_by")
	require.Equal(t, []string{"u0000007", "u0000008"}, keysOf(d))
	require.Equal(t, int64(1775001600001), mapValue(d, 1).Int)
	require.Zero(t, st.Misfits)
	for _, r := range rows {
		require.Nil(t, r.Extra)
	}
}

func TestMapDecisionNeverFlips(t *testing.T) {
	// The first batch sees one data-like key: a map column from the start.
	s, rows, _ := run(t, TableConfig{},
		[]string{readByItem(1, "u0uqeh6k")},
		[]string{readByItem(2, "alice", "bob"), readByItem(3, "carol")})
	require.Equal(t, []string{"room_id", "sk", "read_by"}, names(s))
	require.Equal(t, []string{"alice", "bob"}, keysOf(cell(t, s, rows[1], "read_by")))

	// The first batch sees keys that read as names: flattened, and it
	// stays so when later batches show ids.
	s, rows, _ = run(t, TableConfig{},
		[]string{readByItem(1, "alice")},
		[]string{readByItem(2, "u0uqeh6k", "bob")})
	require.Equal(t, []string{"room_id", "sk", "read_by_alice", "read_by_u0uqeh6k", "read_by_bob"}, names(s))
	require.Equal(t, int64(1775001600000), cell(t, s, rows[1], "read_by_u0uqeh6k").Int)
}

func TestMapOfMapsAndNestedMaps(t *testing.T) {
	s, rows, _ := run(t, TableConfig{}, []string{
		`{"id":{"S":"m1"},"readBy":{"M":{"u0uqeh6k":{"M":{"ts":{"N":"1"},"device":{"S":"ios"}}}}},` +
			`"stats":{"M":{"views":{"N":"3"},"reactions":{"M":{"🥕":{"N":"3"},"👍":{"N":"1"}}}}}}`,
	})
	require.Equal(t, []string{"id", "read_by", "stats_views", "stats_reactions"}, names(s))
	require.Equal(t, "map<string,json>", colType(t, s, "read_by"))
	require.Equal(t, "map<string,bigint>", colType(t, s, "stats_reactions"))
	d := cell(t, s, rows[0], "read_by")
	require.Equal(t, []string{"u0uqeh6k"}, keysOf(d))
	require.JSONEq(t, `{"M":{"ts":{"N":"1"},"device":{"S":"ios"}}}`, mapValue(d, 0).Str)
	r := cell(t, s, rows[0], "stats_reactions")
	require.Equal(t, []string{"🥕", "👍"}, keysOf(r))
	require.Equal(t, []int64{3, 1}, []int64{mapValue(r, 0).Int, mapValue(r, 1).Int})
}

func TestMapValueTypes(t *testing.T) {
	for _, tc := range []struct{ values, want string }{
		{`"a1b2c3d4":{"S":"x"},"e5f6a7b8":{"S":"y"}`, "map<string,string>"},
		{`"1":{"N":"1.5"},"2":{"N":"-2"}`, "map<string,decimal(38,1)>"},
		{`"1":{"BOOL":true}`, "map<string,boolean>"},
		{`"1":{"B":"AQI="}`, "map<string,binary>"},
		{`"1":{"N":"1"},"2":{"S":"x"}`, "map<string,json>"},
		{`"1":{"SS":["x"]}`, "map<string,json>"},
		{`"1":{"N":"1E+100"}`, "map<string,json>"},
		{`"1":{"NULL":true},"2":{"N":"7"}`, "map<string,bigint>"},
	} {
		s, _, _ := run(t, TableConfig{}, []string{`{"m":{"M":{` + tc.values + `}}}`})
		require.Equal(t, tc.want, colType(t, s, "m"), tc.values)
	}
	s, rows, _ := run(t, TableConfig{}, []string{`{"m":{"M":{"1":{"NULL":true},"2":{"L":[]}}}}`})
	require.Empty(t, s.Columns, "only NULL and empty values say nothing about a type")
	require.JSONEq(t, `{"m":{"M":{"1":{"NULL":true},"2":{"L":[]}}}}`, string(rows[0].Extra))
}

func TestMapMisfitsGoToExtra(t *testing.T) {
	s, rows, st := run(t, TableConfig{},
		[]string{readByItem(1, "u0uqeh6k")},
		[]string{
			`{"readBy":{"M":{"u1x2y3z4":{"N":"5"},"u9q8w7e6":{"S":"late"},"u5t6y7u8":{"NULL":true},"uq1w2e3r":{"N":"1.5"}}}}`,
			`{"readBy":{"S":"not a map"}}`,
			`{"readBy":{"M":{"u9q8w7e6":{"S":"nothing fits"}}}}`,
			`{"readBy":{"NULL":true}}`,
		})
	require.Equal(t, "map<string,bigint>", colType(t, s, "read_by"))
	d := cell(t, s, rows[1], "read_by")
	require.Equal(t, []string{"u1x2y3z4"}, keysOf(d))
	require.True(t, mapValue(d, 0).Valid)
	require.JSONEq(t, `{"readBy":{"M":{"u9q8w7e6":{"S":"late"},"u5t6y7u8":{"NULL":true},"uq1w2e3r":{"N":"1.5"}}}}`,
		string(rows[1].Extra), "misfits and, by the NULL rule, the NULL entry")
	require.False(t, cell(t, s, rows[2], "read_by").Valid)
	require.JSONEq(t, `{"readBy":{"S":"not a map"}}`, string(rows[2].Extra))
	require.False(t, cell(t, s, rows[3], "read_by").Valid, "no entry fits: a null cell")
	require.JSONEq(t, `{"readBy":{"M":{"u9q8w7e6":{"S":"nothing fits"}}}}`, string(rows[3].Extra))
	require.False(t, cell(t, s, rows[4], "read_by").Valid)
	require.JSONEq(t, `{"readBy":{"NULL":true}}`, string(rows[4].Extra))
	require.Equal(t, 4, st.Misfits, "NULLs are not misfits")
}

// TestMapRowsDoNotDependOnTheSchema checks the NULL rule inside maps: a
// record gives the same row whether its map's column existed when its
// batch was flattened (a rerun after other batches created it) or not (a
// fresh replay, where a map of NULLs creates no column).
func TestMapRowsDoNotDependOnTheSchema(t *testing.T) {
	items := []string{
		`{"readBy":{"M":{"u0uqeh6k":{"NULL":true},"u5t6y7u8":{"L":[]}}}}`,
		`{"readBy":{"M":{"u0uqeh6k":{"NULL":true}}},"other":{"NULL":true}}`,
	}
	fresh, freshRows, _ := run(t, TableConfig{}, items)
	require.Empty(t, fresh.Columns)
	later, laterRows, _ := run(t, TableConfig{}, []string{readByItem(1, "u1x2y3z4")}, items)
	require.Equal(t, "map<string,bigint>", colType(t, later, "read_by"))
	for i := range items {
		require.Equal(t, string(AppendRowJSON(nil, fresh, &freshRows[i])), string(AppendRowJSON(nil, later, &laterRows[1+i])))
	}
}

func TestMapDeclarations(t *testing.T) {
	// map: names become keys of one column.
	s, rows, _ := run(t, TableConfig{Columns: map[string]string{"readBy": "map"}},
		[]string{readByItem(1, "alice", "bob")})
	require.Equal(t, "map<string,bigint>", colType(t, s, "read_by"))
	c, _ := s.Column("read_by")
	require.False(t, c.Declared, "the value type came from the data")
	require.Equal(t, []string{"alice", "bob"}, keysOf(cell(t, s, rows[0], "read_by")))

	// map<string,V>: declared, every value that converts fits.
	s, rows, _ = run(t, TableConfig{Columns: map[string]string{"readBy": "map<string, string>"}},
		[]string{readByItem(1, "alice")})
	c, _ = s.Column("read_by")
	require.True(t, c.Declared)
	require.Equal(t, "map<string,string>", c.Type.String())
	require.Equal(t, "1775001600000", mapValue(cell(t, s, rows[0], "read_by"), 0).Str)

	// flatten: a column per key, even for emoji, with names of their own.
	s, _, _ = run(t, TableConfig{Columns: map[string]string{"reactions": "FLATTEN"}},
		[]string{`{"reactions":{"M":{"🥕":{"N":"3"},"👍":{"N":"1"}}}}`})
	require.Len(t, s.Columns, 2)
	require.Regexp(t, `^reactions_[0-9a-f]{8}$`, s.Columns[0].Name)
	require.Regexp(t, `^reactions_[0-9a-f]{8}$`, s.Columns[1].Name)

	// A declared map whose first value is no map yet gets its column with
	// the first map, the earlier value kept in _extra.
	s, rows, _ = run(t, TableConfig{Columns: map[string]string{"readBy": "map"}},
		[]string{`{"readBy":{"S":"x"}}`}, []string{readByItem(1, "alice")})
	require.Equal(t, []string{"read_by"}, names(s)[2:])
	require.JSONEq(t, `{"readBy":{"S":"x"}}`, string(rows[0].Extra))

	for _, bad := range []string{"map<bigint,string>", "map<string,array<string>>", "map<string,map<string,string>>", "maps"} {
		_, err := New(TableConfig{Columns: map[string]string{"a": bad}})
		require.ErrorIs(t, err, ErrBadConfig, bad)
	}
}

func TestMapRegistryWins(t *testing.T) {
	f, err := New(TableConfig{Columns: map[string]string{"readBy": "map"}})
	require.NoError(t, err)
	s := schemas.NewSchema("t")
	_, err = s.Add(schemas.Column{Name: "read_by_alice", Path: "readBy.alice", Type: schemas.Bigint, Source: "N"})
	require.NoError(t, err)
	b := f.NewBatch()
	item, err := ParseItemBytes([]byte(readByItem(1, "alice", "u0uqeh6k")))
	require.NoError(t, err)
	b.Add(Meta{EventName: "INSERT"}, item)
	var paths []string
	for _, c := range b.Propose(s) {
		paths = append(paths, c.Path)
	}
	require.Equal(t, []string{"roomId", "sk", "readBy.u0uqeh6k"}, paths,
		"a path flattened before stays flattened, whatever the configuration says now")
}

func TestMapRules(t *testing.T) {
	cfg := TableConfig{Mask: []string{"readBy.*"}, Omit: []string{"readBy.u0000002"}, MaskKey: testKey}
	s, rows, st := run(t, cfg, []string{readByItem(1, "u0000001", "u0000002", "u0000003")})
	require.Equal(t, "map<string,string>", colType(t, s, "read_by"), "masked values are strings")
	d := cell(t, s, rows[0], "read_by")
	require.Equal(t, []string{"u0000001", "u0000003"}, keysOf(d))
	require.Regexp(t, `^[0-9a-f]{64}$`, mapValue(d, 0).Str)
	require.NotContains(t, mapValue(d, 0).Str, "1775001600000")
	require.Equal(t, 1, st.Omitted)
}

// TestLearnGivesSameRows checks that a Flattener that learned the map
// columns (which keeps maps whole from the start) builds the same rows
// as one that flattens then folds them.
func TestLearnGivesSameRows(t *testing.T) {
	cfg := TableConfig{Mask: []string{"readBy.u0000002"}, Omit: []string{"readBy.u0000099"}, Depth: 2, MaskKey: testKey}
	items := []string{
		readByItem(1, "u0000001", "u0000002"),
		`{"readBy":{"M":{"u0000099":{"N":"1"}}}}`, // every entry omitted: nothing lands
		`{"readBy":{"M":{"u0000001":{"NULL":true},"u0000010":{"N":"3"}}}}`,
		`{"readBy":{"M":{"u0000009":{"S":"misfit"},"u0000010":{"N":"3"}}}}`,
		`{"deep":{"M":{"x":{"M":{"u0000001":{"N":"1"}}}}}}`,
	}
	s, want, wantSt := run(t, cfg, items, items)

	f, err := New(cfg)
	require.NoError(t, err)
	f.Learn(s)
	b := f.NewBatch()
	for i, in := range items {
		item, err := ParseItemBytes([]byte(in))
		require.NoError(t, err)
		b.Add(Meta{EventName: "INSERT", EventTime: 1775001600000 + int64(i)}, item)
	}
	require.Empty(t, b.Propose(s))
	got, st := b.Rows(nil, s)
	for i := range got {
		require.Equal(t, string(AppendRowJSON(nil, s, &want[len(items)+i])), string(AppendRowJSON(nil, s, &got[i])), "row %d", i)
	}
	require.Equal(t, wantSt.Omitted/2, st.Omitted)
}

func TestManyDistinctKeysOneBatch(t *testing.T) {
	var batch []string
	for i := range 200 {
		// Keys that each read as a name; there are too many of them.
		batch = append(batch, fmt.Sprintf(`{"votes":{"M":{"name%c%c%c":{"N":"1"}}}}`, 'a'+i%26, 'a'+i/26%26, 'a'+i/676))
	}
	s, _, _ := run(t, TableConfig{}, batch)
	require.Equal(t, []string{"votes"}, names(s))
	require.Equal(t, "map<string,bigint>", colType(t, s, "votes"))
}

func names(s *schemas.Schema) []string {
	out := make([]string, len(s.Columns))
	for i, c := range s.Columns {
		out[i] = c.Name
	}
	return out
}

func keysOf(d Datum) []string {
	keys := make([]string, d.MapLen())
	for i := range keys {
		keys[i] = d.MapKey(i)
	}
	return keys
}

func mapValue(d Datum, i int) Datum { return *d.MapValue(i) }
