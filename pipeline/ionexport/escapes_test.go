package ionexport

import (
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
)

// readOneByte is readAll through a reader handing on one byte a call, so
// that every escape is cut across reads.
func readOneByte(t *testing.T, data string) (lines []string, errs []error) {
	t.Helper()
	return readItems(iotest.OneByteReader(strings.NewReader(data)))
}

// TestReaderEscapes checks that a \u or \U escape naming no Unicode
// character sets its item aside at its path (the Ion library would read
// it as U+FFFD), that a surrogate pair written as two escapes reads as
// the one character it stands for, as Ion's Java library reads it, and
// that the items around them are read as they are.
func TestReaderEscapes(t *testing.T) {
	cases := []struct {
		name, ion string
		json      string // the line
		path      string // of the ItemError; "" for none
		why       string
	}{
		{"lone high surrogate", `{Item:{pk:"a",s:"x\ud800y"}}`, `{"Item":{"pk":{"S":"a"},"s":{"ion":"\"x\\ud800y\""}}}`, "Item.s", `the escape \ud800 is a high surrogate with no low surrogate after it`},
		{"lone low surrogate", `{Item:{s:"\uDC00"}}`, `{"Item":{"s":{"ion":"\"\\uDC00\""}}}`, "Item.s", `\uDC00 is a low surrogate with no high surrogate before it`},
		{"high surrogate then a character", `{Item:{s:"\ud83d\u0041"}}`, `{"Item":{"s":{"ion":"\"\\ud83dA\""}}}`, "Item.s", `\ud83d is a high surrogate`},
		{"pair in the wrong order", `{Item:{s:"\ude00\ud83d"}}`, `{"Item":{"s":{"ion":"\"\\ude00\\ud83d\""}}}`, "Item.s", `\ude00 is a low surrogate`},
		{"surrogate as \\U", `{Item:{s:"\U0000d800"}}`, `{"Item":{"s":{"ion":"\"\\U0000d800\""}}}`, "Item.s", `\U0000d800 is a UTF-16 surrogate`},
		{"past U+10FFFF", `{Item:{s:"\U00110000"}}`, `{"Item":{"s":{"ion":"\"\\U00110000\""}}}`, "Item.s", `\U00110000 is past U+10FFFF`},
		{"largest \\U", `{Item:{s:"\UFFFFFFFF"}}`, ``, "Item.s", `past U+10FFFF`},
		{"in a long string", `{Item:{s:'''a\ud800'''}}`, `{"Item":{"s":{"ion":"\"a\\ud800\""}}}`, "Item.s", `\ud800`},
		{"pair split across long strings", `{Item:{s:'''\ud83d''' '''\ude00'''}}`, ``, "Item.s", `\ud83d is a high surrogate`},
		{"deep in a map and a list", `{Item:{m:{l:[1.,"\udfff"]}}}`, ``, "Item.m.l.1", `\udfff`},
		{"in a string set", `{Item:{ss:$dynamodb_SS::["ok","\ud800"]}}`, `{"Item":{"ss":{"SS":["ok",{"ion":"\"\\ud800\""}]}}}`, "Item.ss.1", `\ud800`},
		{"in a field name", `{Item:{'k\ud800':"v"}}`, `{"Item":{"k\\ud800":{"S":"v"}}}`, flatten.JoinPath("Item", `k\ud800`), `\ud800 in a field name`},
		{"in a member name", `{'\ud800':{}}`, ``, flatten.JoinPath("", `\ud800`), `\ud800 in a field name`},
		{"in an incremental image", `{Metadata:{WriteTimestampMicros:1},Keys:{pk:"a"},NewImage:{pk:"a",s:"\ud800"}}`, ``, "NewImage.s", `\ud800`},

		{"surrogate pair", `{Item:{s:"a\ud83d\ude00b",'\uD83D\uDE00':"\U0001F600"}}`, `{"Item":{"s":{"S":"a😀b"},"😀":{"S":"😀"}}}`, "", ""},
		{"last character and the edges of the surrogates", `{Item:{s:"\U0010ffff\ud7ff\ue000\udbff\udfff"}}`, "{\"Item\":{\"s\":{\"S\":\"\U0010ffff\ud7ff\ue000\U0010ffff\"}}}", "", ""},
		{"escaped backslash before u", `{Item:{s:"\\ud800"}}`, `{"Item":{"s":{"S":"\\ud800"}}}`, "", ""},
		{"escaped backslash then an escape", `{Item:{s:"\\\ud83d\ude00"}}`, `{"Item":{"s":{"S":"\\😀"}}}`, "", ""},
		{"in a comment", "{Item:{s:\"x\"}} // \\ud800 \\ud83d\\ude00 \n/* \\udc00 */ {Item:{}}", `{"Item":{"s":{"S":"x"}}}` + "\n" + `{"Item":{}}`, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, read := range []func(*testing.T, string) ([]string, []error){readAll, readOneByte} {
				lines, errs := read(t, c.ion+"\n"+`{Item:{after:"ok"}}`)
				require.Equal(t, `{"Item":{"after":{"S":"ok"}}}`, lines[len(lines)-1], "the item after is read")
				require.NoError(t, errs[len(errs)-1])
				if c.json != "" {
					require.Equal(t, c.json, strings.Join(lines[:len(lines)-1], "\n"))
				}
				if c.path == "" {
					for _, err := range errs {
						require.NoError(t, err)
					}
					continue
				}
				var ie *ItemError
				require.ErrorAs(t, errs[0], &ie)
				require.ErrorIs(t, ie, ErrEscape)
				require.ErrorIs(t, ie, flatten.ErrBadUTF8)
				require.Equal(t, 1, ie.Item)
				require.Equal(t, c.path, ie.Path)
				require.Contains(t, ie.Error(), c.why)
				require.NotContains(t, lines[0], "\uFFFD", "nothing invented")
			}
		})
	}
}

// TestReaderEscapeOffsets checks that where Ion breaks after a surrogate
// pair (rewritten shorter before the Ion library reads it) is told in
// the offsets of the data as it is.
func TestReaderEscapeOffsets(t *testing.T) {
	broken := `{Item:{s:"a" "b"}}`
	for _, pairs := range []int{1, 3, 5000} {
		head := `{Item:{s:"` + strings.Repeat(`\ud83d\ude00`, pairs) + `"}}` + "\n"
		_, errs := readAll(t, head+broken)
		var se *StreamError
		require.ErrorAs(t, errs[len(errs)-1], &se)
		require.Equal(t, 2, se.Item)
		require.EqualValues(t, len(head)+strings.Index(broken, `"b"`), se.Offset, "%d pairs", pairs)
	}
}
