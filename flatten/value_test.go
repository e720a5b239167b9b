package flatten

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/valyala/fastjson"
)

func TestParseItemKinds(t *testing.T) {
	item, err := ParseItemBytes([]byte(`{
		"s":{"S":"안녕 👋"}, "n":{"N":"-1.5"}, "b":{"B":"AAEC"}, "t":{"BOOL":true}, "f":{"BOOL":false},
		"z":{"NULL":true}, "m":{"M":{"x":{"S":"y"}}}, "l":{"L":[{"S":"a"},{"N":"1"}]},
		"ss":{"SS":["a","b"]}, "ns":{"NS":["1","2.5"]}, "bs":{"BS":["AQ==","Ag"]}}`))
	require.NoError(t, err)
	want := []struct {
		name string
		kind Kind
	}{{"s", S}, {"n", N}, {"b", B}, {"t", BOOL}, {"f", BOOL}, {"z", NULL}, {"m", M}, {"l", L}, {"ss", SS}, {"ns", NS}, {"bs", BS}}
	require.Len(t, item, len(want))
	for i, w := range want {
		require.Equal(t, w.name, item[i].Name, "input order is kept")
		require.Equal(t, w.kind, item[i].Value.Kind, w.name)
	}
	require.Equal(t, "안녕 👋", item[0].Value.S)
	require.Equal(t, []byte{0, 1, 2}, item[2].Value.B)
	require.True(t, item[3].Value.Bool)
	require.Equal(t, []byte{2}, item[10].Value.L[1].B, "unpadded base64 is accepted")
}

func TestParseItemErrors(t *testing.T) {
	deep := `{"S":"x"}`
	for i := 0; i < MaxDepth; i++ {
		deep = `{"M":{"d":` + deep + `}}`
	}
	tests := []struct {
		name, in string
		want     error
		path     string
	}{
		{"two types", `{"a":{"S":"x","N":"1"}}`, ErrMultipleTypes, "a"},
		{"no type", `{"a":{}}`, ErrNoType, "a"},
		{"unknown tag", `{"a":{"X":"1"}}`, ErrUnknownType, "a"},
		{"lowercase tag", `{"a":{"s":"1"}}`, ErrUnknownType, "a"},
		{"N not a number", `{"a":{"M":{"b":{"N":"12abc"}}}}`, ErrBadNumber, "a.b"},
		{"N as JSON number", `{"a":{"N":12}}`, ErrBadValue, "a"},
		{"N out of range", `{"a":{"N":"1E+200"}}`, ErrNumberRange, "a"},
		{"N too many digits", `{"a":{"N":"123456789012345678901234567890123456789"}}`, ErrNumberRange, "a"},
		{"bad base64", `{"a":{"B":"!!!"}}`, ErrBadBase64, "a"},
		{"bad base64 in set", `{"a":{"BS":["AQ==","%%"]}}`, ErrBadBase64, "a.1"},
		{"bad number in set", `{"a":{"NS":["1","x"]}}`, ErrBadNumber, "a.1"},
		{"bad in list", `{"a":{"L":[{"S":"x"},{"BOOL":"yes"}]}}`, ErrBadValue, "a.1"},
		{"empty set", `{"a":{"SS":[]}}`, ErrEmptySet, "a"},
		{"NULL false", `{"a":{"NULL":false}}`, ErrBadValue, "a"},
		{"value not object", `{"a":"plain"}`, ErrBadValue, "a"},
		{"item not object", `[1,2]`, ErrBadValue, ""},
		{"duplicate name", `{"a":{"S":"x"},"a":{"S":"y"}}`, ErrDuplicateName, "a"},
		{"too deep", `{"a":` + deep + `}`, ErrTooDeep, ""},
		{"not JSON", `{"a":`, ErrBadJSON, ""},
		{"invalid UTF-8 in a name", "{\"a\xb0\":{\"S\":\"x\"}}", ErrBadUTF8, ""},
		{"invalid UTF-8 in S", "{\"a\":{\"M\":{\"b\":{\"S\":\"\xff\"}}}}", ErrBadUTF8, "a.b"},
		{"invalid UTF-8 in SS", "{\"a\":{\"SS\":[\"ok\",\"\xc3\"]}}", ErrBadUTF8, "a.1"},
		{"dotted name path", `{"a.b":{"M":{"c":{"N":"x"}}}}`, ErrBadNumber, `a\.b.c`},
		{"empty name", `{"":{"S":"x"}}`, ErrBadValue, ""},
		{"empty name in a map", `{"a":{"M":{"":{"M":{}}}}}`, ErrBadValue, "a."},
		{"name of 64 KB", `{"` + strings.Repeat("n", MaxNameBytes+1) + `":{"S":"x"}}`, ErrBadValue, strings.Repeat("n", 64)},
	}
	var ip ItemParser
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseItemBytes([]byte(tc.in))
			require.ErrorIs(t, err, tc.want)
			var jp fastjson.Parser
			if v, jerr := jp.Parse(tc.in); jerr == nil {
				// CheckItem refuses what ParseItem refuses, naming the same path.
				require.Equal(t, err, ip.CheckItem(v))
			}
			var ae *AttrError
			require.ErrorAs(t, err, &ae)
			if tc.path != "" {
				require.Equal(t, tc.path, ae.Path)
				require.Contains(t, err.Error(), "attribute "+tc.path)
			}
		})
	}
}

// TestNameLengths checks DynamoDB's name limits: one byte, and just under
// 64 KB, are names.
func TestNameLengths(t *testing.T) {
	for _, name := range []string{"a", strings.Repeat("n", MaxNameBytes)} {
		attrs, err := ParseItemBytes([]byte(`{"` + name + `":{"M":{"` + name + `":{"S":"x"}}}}`))
		require.NoError(t, err)
		require.Equal(t, name, attrs[0].Name)
	}
}

func TestDepthLimitIsDynamoDBs(t *testing.T) {
	ok := `{"S":"x"}`
	for i := 0; i < MaxDepth-1; i++ {
		ok = `{"M":{"d":` + ok + `}}`
	}
	_, err := ParseItemBytes([]byte(`{"a":` + ok + `}`))
	require.NoError(t, err, "32 levels are allowed")
}

func TestValueJSONRoundTrip(t *testing.T) {
	in := `{"s":{"S":"q\"uote\\ \n\t\u0001 한글"},"n":{"N":"-1.5"},"b":{"B":"AAEC"},"t":{"BOOL":true},"z":{"NULL":true},` +
		`"m":{"M":{"x":{"L":[{"S":"a"},{"NS":["1","2"]}]}}},"ss":{"SS":["a"]},"bs":{"BS":["AQ=="]}}`
	item, err := ParseItemBytes([]byte(in))
	require.NoError(t, err)
	out := AppendItemJSON(nil, item)
	again, err := ParseItemBytes(out)
	require.NoError(t, err)
	require.Equal(t, item, again)
	require.JSONEq(t, in, string(out))
}

func TestAppendJSONStringInvalidUTF8(t *testing.T) {
	out := AppendJSONString(nil, "a\xffb")
	require.Equal(t, `"a\ufffdb"`, string(out))
	require.True(t, strings.HasPrefix(string(AppendJSONString(nil, "<>&")), `"<>&"`))
}

// FuzzCheckItem checks that CheckItem fails exactly where ParseItem
// fails, with the same error, and that parsing after a check is unchanged.
func FuzzCheckItem(f *testing.F) {
	for _, seed := range []string{
		`{"a":{"S":"x"},"n":{"N":"1.5"},"m":{"M":{"x":{"N":"1"},"y":{"L":[{"S":"a"},{"N":"2"}]}}}}`,
		`{"a":{"N":"1"},"b":{"NS":["1","2.5"]},"c":{"SS":["x"]},"d":{"BS":["AQ==","AQ"]},"e":{"NULL":true},"f":{"B":"AQI"}}`,
		`{"a":{"M":{"b":{"M":{"c":{"S":"x"}}},"b2":{"M":{"c":{"S":"x"},"c":{"N":"1"}}}}}}`,
		`{"a":{"BS":["AQ==","%%"]}}`, `{"a":{"L":[{"M":{"x":{"N":"x"}}}]}}`, `{"a":{"SS":[]}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var jp fastjson.Parser
		v, err := jp.ParseBytes(in)
		if err != nil {
			return
		}
		var ip ItemParser
		want, werr := ParseItem(v)
		require.Equal(t, werr, ip.CheckItem(v))
		got, gerr := ip.ParseItem(v)
		require.Equal(t, werr, gerr)
		require.Equal(t, want, got)
	})
}

func TestItemParserMatchesParseItem(t *testing.T) {
	var ip ItemParser
	var p fastjson.Parser
	for _, in := range []string{
		`{"roomId":{"S":"r1"},"type":{"S":"text"},"n":{"N":"1"},"ss":{"SS":["a","b"]},"ns":{"NS":["1"]},"m":{"M":{"type":{"S":"text"}}}}`,
		`{"roomId":{"S":"r2"},"type":{"S":"text"},"n":{"N":"2"},"body":{"S":"` + strings.Repeat("long ", 20) + `"}}`,
		`{"bad":{"N":"x"}}`,
		`{"roomId":{"S":"r1"},"type":{"S":"image"}}`,
	} {
		v, err := p.Parse(in)
		require.NoError(t, err)
		want, werr := ParseItem(v)
		got, gerr := ip.ParseItem(v)
		require.Equal(t, werr, gerr)
		require.Equal(t, want, got)
	}
	require.LessOrEqual(t, len(ip.p.strs), internMaxEntries)
	_, long := ip.p.strs[strings.Repeat("long ", 20)]
	require.False(t, long, "long strings are not kept")
}
