package flatten

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestHiddenInsideLeaves checks that omit and mask rules apply at paths
// the flattener does not walk to: inside maps past the depth, lists that
// are not exploded, declared columns, sets and expanded JSON kept whole.
// Nothing of a hidden value may reach a cell or _extra; masks land where
// the value was.
func TestHiddenInsideLeaves(t *testing.T) {
	cases := []struct {
		name    string
		cfg     TableConfig
		item    string
		secrets []string // must appear nowhere
		masks   []string // clear texts whose mask must appear
	}{
		{
			name:    "map past the depth",
			cfg:     TableConfig{Depth: 2, Mask: []string{"a.b.c.d"}, Omit: []string{"a.b.x"}},
			item:    `{"a":{"M":{"b":{"M":{"c":{"M":{"d":{"S":"SECRET-d"},"e":{"S":"kept"}}},"x":{"S":"SECRET-x"}}}}}}`,
			secrets: []string{"SECRET-d", "SECRET-x"},
			masks:   []string{"SECRET-d"},
		},
		{
			name:    "list not exploded",
			cfg:     TableConfig{Mask: []string{"items.*.phone"}},
			item:    `{"items":{"L":[{"M":{"phone":{"S":"SECRET-p1"},"n":{"N":"1"}}},{"M":{"phone":{"S":"SECRET-p2"}}}]}}`,
			secrets: []string{"SECRET-p1", "SECRET-p2"},
			masks:   []string{"SECRET-p1", "SECRET-p2"},
		},
		{
			name:    "declared json column",
			cfg:     TableConfig{Columns: map[string]string{"payload": "json"}, Omit: []string{"payload.token"}},
			item:    `{"payload":{"M":{"token":{"S":"SECRET-t"},"kind":{"S":"k"}}}}`,
			secrets: []string{"SECRET-t"},
		},
		{
			name:    "set under a rule",
			cfg:     TableConfig{Mask: []string{"emails.*"}},
			item:    `{"emails":{"SS":["SECRET-e1@x.com","SECRET-e2@x.com"]}}`,
			secrets: []string{"SECRET-e1", "SECRET-e2"},
		},
		{
			name:    "expanded JSON at the depth",
			cfg:     TableConfig{Depth: 1, Expand: []string{"meta"}, Mask: []string{"meta.phone"}},
			item:    `{"meta":{"S":"{\"phone\":\"SECRET-m\",\"client\":\"ios\"}"}}`,
			secrets: []string{"SECRET-m"},
			masks:   []string{"SECRET-m"},
		},
		{
			name:    "expanded text that is not an object",
			cfg:     TableConfig{Expand: []string{"meta"}, Omit: []string{"meta.phone"}},
			item:    `{"meta":{"S":"{\"phone\":\"SECRET-broken\", oops"}}`,
			secrets: []string{"SECRET-broken"},
		},
		{
			name:    "masked map keyed by secrets",
			cfg:     TableConfig{Mask: []string{"contacts"}},
			item:    `{"contacts":{"M":{"SECRET-k@x.com":{"S":"SECRET-v"}}}}`,
			secrets: []string{"SECRET-k", "SECRET-v"},
		},
		{
			name: "names holding dots",
			cfg: TableConfig{Mask: []string{"user.email", "sender.profile.phone", "contacts.*"}, Omit: []string{"debug.info", "a.*.c"},
				Depth: 1},
			item: `{"user.email":{"S":"SECRET-1@x.com"},"user":{"M":{"email":{"S":"SECRET-2@x.com"}}},` +
				`"sender.profile":{"M":{"phone":{"S":"SECRET-3"}}},"sender":{"M":{"profile.phone":{"S":"SECRET-4"}}},` +
				`"contacts":{"M":{"k@x.com":{"S":"SECRET-5"}}},` +
				`"debug.info":{"S":"SECRET-7"},"a.b.c":{"S":"SECRET-8"},"a":{"M":{"b.c":{"S":"SECRET-9"}}},"debug.other":{"S":"kept"}}`,
			secrets: []string{"SECRET-"},
			masks:   []string{"SECRET-1@x.com", "SECRET-2@x.com", "SECRET-3", "SECRET-4", "SECRET-5"},
		},
		{
			name:    "omitted map keyed by secrets",
			cfg:     TableConfig{Omit: []string{"contacts"}, Depth: 1},
			item:    `{"contacts":{"M":{"SECRET-k@x.com":{"S":"SECRET-v"}}}}`,
			secrets: []string{"SECRET-k", "SECRET-v"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.MaskKey = testKey
			s, rows, _ := run(t, c.cfg, []string{c.item})
			var out strings.Builder
			for i := range rows {
				out.Write(AppendRowJSON(nil, s, &rows[i]))
				out.Write(rows[i].Extra)
			}
			for _, col := range s.Columns {
				out.WriteString(col.Name + " " + col.Path + "\n")
			}
			for _, secret := range c.secrets {
				require.NotContains(t, out.String(), secret)
			}
			for _, m := range c.masks {
				require.Contains(t, out.String(), hmacHex(m))
			}
		})
	}
}

func TestMaskKey(t *testing.T) {
	_, err := New(TableConfig{Mask: []string{"phone"}})
	require.ErrorIs(t, err, ErrNoMaskKey, "masking without a key refuses to start")
	_, err = New(TableConfig{Mask: []string{"phone"}, MaskKey: []byte("short")})
	require.ErrorIs(t, err, ErrBadConfig)
	_, err = New(TableConfig{Omit: []string{"phone"}})
	require.NoError(t, err, "omit needs no key")

	item := `{"phone":{"S":"+15551234567"},"n":{"N":"42"},"b":{"B":"AAE="},"ok":{"BOOL":true},"z":{"NULL":true}}`
	mask := []string{"phone", "n", "b", "ok", "z"}
	s1, rows1, _ := run(t, TableConfig{Mask: mask, MaskKey: testKey}, []string{item})
	_, rows2, _ := run(t, TableConfig{Mask: mask, MaskKey: append([]byte(nil), testKey...)}, []string{item})
	_, rows3, _ := run(t, TableConfig{Mask: mask, MaskKey: []byte("another key of 16+ bytes")}, []string{item})
	require.Equal(t, rows1[0].Values, rows2[0].Values, "one key, one mask: masked ids join across runs")
	require.NotEqual(t, cell(t, s1, rows1[0], "phone"), rows3[0].Values[0], "another key, another mask")

	require.Equal(t, hmacHex("+15551234567"), cell(t, s1, rows1[0], "phone").Str, "S: the text")
	require.Equal(t, hmacHex("42"), cell(t, s1, rows1[0], "n").Str, "N: the number's text")
	require.Equal(t, hmacHex("\x00\x01"), cell(t, s1, rows1[0], "b").Str, "B: the bytes")
	require.Equal(t, hmacHex(`{"BOOL":true}`), cell(t, s1, rows1[0], "ok").Str, "other kinds: the DynamoDB JSON")
	require.Equal(t, `{"z":{"NULL":true}}`, string(rows1[0].Extra), "NULL stays NULL")
}

func TestRedactorActions(t *testing.T) {
	r := NewRedactor(testKey, TableConfig{Omit: []string{"a.b"}}, TableConfig{Mask: []string{"*.c", "x"}, Expand: []string{"m"}})
	require.False(t, r.Empty())
	for _, c := range []struct {
		path   string
		action Action
		hidden int
	}{
		{"a", Descend, 0},
		{"a.b", Omit, 2},
		{"a.b.z", Keep, 2},
		{"a.c", Mask, 2},
		{"q", Descend, 0},
		{"q.d", Keep, 0},
		{"x", Mask, 1},
		{"x.y.z", Keep, 1},
	} {
		segs := strings.Split(c.path, ".")
		require.Equal(t, c.action, r.Action(segs), c.path)
		require.Equal(t, c.hidden, r.Hidden(segs), c.path)
	}
	// Names holding dots: a rule's dots match them too.
	for _, c := range []struct {
		segs   []string
		action Action
		hidden int
	}{
		{[]string{"a.b"}, Omit, 1},
		{[]string{"a.b", "z"}, Keep, 1},
		{[]string{"q.c"}, Mask, 1},
		{[]string{"q.r.c"}, Descend, 0}, // "*" is the whole name: its c is masked
		{[]string{"q.r", "c"}, Mask, 2},
		{[]string{"q", "c.d"}, Keep, 0},
		{[]string{"x.y"}, Descend, 0},
		{[]string{"x.y", "c"}, Mask, 2},
	} {
		segs := c.segs
		require.Equal(t, c.action, r.Action(segs), "%q", segs)
		require.Equal(t, c.hidden, r.Hidden(segs), "%q", segs)
	}
	require.True(t, r.Expands([]string{"m"}))
	require.True(t, NewRedactor(nil, TableConfig{Expand: []string{"m"}}).Empty())

	require.Equal(t, `{"S":"`+hmacHex("v")+`"}`, string(r.MaskAttributeJSON(nil, []byte(`{"S":"v"}`))))
	require.Equal(t, `{"NULL":true}`, string(r.MaskAttributeJSON(nil, []byte(`{"NULL":true}`))))
	require.Equal(t, `{"S":"`+hmacHex(`{"S":"v","N":"1"}`)+`"}`, string(r.MaskAttributeJSON(nil, []byte(`{"S":"v","N":"1"}`))),
		"a malformed value is masked as text")
	require.Equal(t, `"`+hmacHex("v")+`"`, string(r.MaskPlainJSON(nil, []byte(`"v"`))))
	require.Equal(t, `"`+hmacHex("12.5")+`"`, string(r.MaskPlainJSON(nil, []byte(`12.5`))), "a JSON number is masked as N text")
	require.Equal(t, `null`, string(r.MaskPlainJSON(nil, []byte(`null`))))
}
