package flatten

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckEscapes(t *testing.T) {
	for _, ok := range []string{
		`{"a":"plain"}`,
		`{"a":"\" \\ \/ \b \f \n \r \t"}`,
		`{"a":"\u0041\u00e9\uFFFF\u0000"}`,
		`{"a":"\ud83d\ude00"}`,             // a surrogate pair: U+1F600
		`{"a":"\\ud800"}`,                  // an escaped backslash, then text
		`{"\u006b\ud834\udd1e":{"S":"x"}}`, // a key
	} {
		require.NoError(t, CheckEscapes([]byte(ok)), ok)
	}
	for _, tc := range []struct {
		in   string
		want error
		off  int
	}{
		{`{"a":"\ud800"}`, ErrBadUTF8, 6},
		{`{"a":"x\udfff"}`, ErrBadUTF8, 7},       // a lone low surrogate
		{`{"a":"\ud800\u0041"}`, ErrBadUTF8, 6},  // high, then no low
		{`{"a":"\ud800\ud800"}`, ErrBadUTF8, 6},  // high, then high
		{`{"a":"\udc00\ud800"}`, ErrBadUTF8, 6},  // low, then high
		{`{"a":"\uD83D"}`, ErrBadUTF8, 6},        // upper case hex
		{`{"\ud800":{"S":"x"}}`, ErrBadUTF8, 2},  // a key
		{`{"a":"\q"}`, ErrBadJSON, 6},            // unknown escape
		{`{"a":"\u12"}`, ErrBadJSON, 6},          // short
		{`{"a":"\u12zz"}`, ErrBadJSON, 6},        // not hex
		{`{"a":"ok \\ \ud800"}`, ErrBadUTF8, 12}, // after a good escape
		{`{"a":"` + strings.Repeat(`\\`, 1000) + `\ud800"}`, ErrBadUTF8, 2006},
	} {
		err := CheckEscapes([]byte(tc.in))
		require.ErrorIs(t, err, tc.want, tc.in)
		var ee *EscapeError
		require.ErrorAs(t, err, &ee)
		require.Equal(t, tc.off, ee.Offset, tc.in)
		require.Equal(t, `\`, ee.Text[:1])
	}
}

// TestLoneSurrogateIsAltered shows why CheckEscapes exists: the parser
// keeps a lone surrogate escape as its six characters of text and turns
// a bad pair into U+FFFD, so the value read is not the one written.
func TestLoneSurrogateIsAltered(t *testing.T) {
	attrs, err := ParseItemBytes([]byte(`{"a":{"S":"\ud800"},"b":{"S":"\ud800\u0041"}}`))
	require.NoError(t, err)
	require.Equal(t, `\ud800`, attrs[0].Value.S)
	require.Equal(t, "\uFFFD", attrs[1].Value.S, "the A is lost")
}

// TestExpandRefusesAlteringParses checks that a string holding JSON is
// expanded only when the parse keeps every value as written: a lone
// surrogate or a repeated key leaves the string as it is.
func TestExpandRefusesAlteringParses(t *testing.T) {
	cfg := TableConfig{Expand: []string{"meta"}}
	s, rows, _ := run(t, cfg, []string{
		`{"id":{"S":"1"},"meta":{"S":"{\"k\":\"v\"}"}}`,
		`{"id":{"S":"2"},"meta":{"S":"{\"k\":\"\\ud800\"}"}}`,
		`{"id":{"S":"3"},"meta":{"S":"{\"k\":\"a\",\"k\":\"b\"}"}}`,
		`{"id":{"S":"4"},"meta":{"S":"{\"n\":{\"k\":1,\"k\":2}}"}}`,
	})
	require.Equal(t, "v", cell(t, s, rows[0], "meta_k").Str)
	for i, want := range []string{`{"k":"\ud800"}`, `{"k":"a","k":"b"}`, `{"n":{"k":1,"k":2}}`} {
		r := rows[i+1]
		require.Empty(t, cell(t, s, r, "meta_k").Str, "row %d", i+1)
		require.Equal(t, want, cell(t, s, r, "meta").Str, "row %d keeps the string whole", i+1)
	}
}
