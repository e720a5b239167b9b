package ionexport

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/valyala/fastjson"

	"github.com/ddblake/ddblake/flatten"
)

// readAll returns the lines and errors of every item of data.
func readAll(t *testing.T, data string) (lines []string, errs []error) {
	t.Helper()
	return readItems(strings.NewReader(data))
}

// readItems returns the lines and errors of every item src gives.
func readItems(src io.Reader) (lines []string, errs []error) {
	r := NewReader(src, 1<<20)
	for {
		line, err := r.Next()
		if err == io.EOF {
			return lines, errs
		}
		var se *StreamError
		if errors.As(err, &se) {
			return lines, append(errs, err)
		}
		lines = append(lines, string(line))
		errs = append(errs, err)
	}
}

func TestReaderItems(t *testing.T) {
	cases := []struct {
		name, ion, json string
	}{
		{"documented line", `$ion_1_0 {Item:{Id:103.,Title:"Book 103",Authors:$dynamodb_SS::["A","B"],InPublication:false}}`,
			`{"Item":{"Id":{"N":"103"},"Title":{"S":"Book 103"},"Authors":{"SS":["A","B"]},"InPublication":{"BOOL":false}}}`},
		{"every type", `{Item:{s:"x",n:1.50,i:-42,b:{{aGk=}},t:true,z:null,m:{a:{b:"c"}},l:[1.,"x",[]],ss:$dynamodb_SS::["a"],ns:$dynamodb_NS::[1.,2,3d2],bs:$dynamodb_BS::[{{AA==}},{{}}]}}`,
			`{"Item":{"s":{"S":"x"},"n":{"N":"1.50"},"i":{"N":"-42"},"b":{"B":"aGk="},"t":{"BOOL":true},"z":{"NULL":true},"m":{"M":{"a":{"M":{"b":{"S":"c"}}}}},"l":{"L":[{"N":"1"},{"S":"x"},{"L":[]}]},"ss":{"SS":["a"]},"ns":{"NS":["1","2","3E+2"]},"bs":{"BS":["AA==",""]}}}`},
		{"numbers as DynamoDB spells them", `{Item:{a:1d125,b:-1.5d10,c:0.000001,d:1d-7,e:12300.,f:-0.,g:12345678901234567890123456789012345678.,h:1.23d-130,i:123456789012345678901234567890}}`,
			`{"Item":{"a":{"N":"1E+125"},"b":{"N":"-1.5E+10"},"c":{"N":"0.000001"},"d":{"N":"1E-7"},"e":{"N":"12300"},"f":{"N":"-0"},"g":{"N":"12345678901234567890123456789012345678"},"h":{"N":"1.23E-130"},"i":{"N":"123456789012345678901234567890"}}}`},
		{"incremental", `$ion_1_0 {Metadata:{WriteTimestampMicros:1775001600123456},Keys:{pk:"a"},OldImage:null,NewImage:{pk:"a"}}`,
			`{"Metadata":{"WriteTimestampMicros":{"N":"1775001600123456"}},"Keys":{"pk":{"S":"a"}},"OldImage":null,"NewImage":{"pk":{"S":"a"}}}`},
		{"names and strings escaped", `{Item:{'a "b"\\':"line\nbreak\ttab\u0001 é 😀",'':"empty name"}}`,
			`{"Item":{"a \"b\"\\":{"S":"line\nbreak\ttab\u0001 é 😀"},"":{"S":"empty name"}}}`},
		{"empty item and empty sets left to the decoder", `{Item:{e:$dynamodb_SS::[]}} {Item:{}}`,
			`{"Item":{"e":{"SS":[]}}}` + "\n" + `{"Item":{}}`},
		{"duplicate names kept for the decoder", `{Item:{a:"1",a:"2"}}`, `{"Item":{"a":{"S":"1"},"a":{"S":"2"}}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lines, errs := readAll(t, c.ion)
			for _, err := range errs {
				require.NoError(t, err)
			}
			require.Equal(t, c.json, strings.Join(lines, "\n"))
		})
	}
}

func TestReaderBadItems(t *testing.T) {
	cases := []struct {
		name, ion string
		err       error
		path      string
		json      string // the line kept for the quarantine
	}{
		{"float", `{Item:{id:"a",price:1.5e0}}`, ErrType, "Item.price", `{"Item":{"id":{"S":"a"},"price":{"ion":"1.5e+0"}}}`},
		{"timestamp", `{Item:{at:2026-04-01T00:00:00Z}}`, ErrType, "Item.at", ``},
		{"symbol value", `{Item:{s:abc}}`, ErrType, "Item.s", `{"Item":{"s":{"ion":"abc"}}}`},
		{"clob", `{Item:{c:{{"x"}}}}`, ErrType, "Item.c", ``},
		{"sexp", `{Item:{x:(a b)}}`, ErrType, "Item.x", ``},
		{"typed null", `{Item:{x:null.string}}`, ErrType, "Item.x", `{"Item":{"x":{"ion":"null.string"}}}`},
		{"unknown annotation", `{Item:{x:$dynamodb_XS::["a"]}}`, ErrAnnotation, "Item.x", ``},
		{"set annotation on a scalar", `{Item:{x:$dynamodb_SS::"a"}}`, ErrAnnotation, "Item.x", ``},
		{"two annotations", `{Item:{x:a::$dynamodb_SS::["a"]}}`, ErrAnnotation, "Item.x", ``},
		{"number in a string set", `{Item:{x:$dynamodb_SS::["a",1.]}}`, ErrType, "Item.x.1", `{"Item":{"x":{"SS":["a",{"ion":"1."}]}}}`},
		{"float in a number set", `{Item:{x:$dynamodb_NS::[1e0]}}`, ErrType, "Item.x.0", ``},
		{"float deep in a list", `{Item:{l:[1.,{m:[2e0]}]}}`, ErrType, "Item.l.1.M", ``},
		{"not a struct", `[1, 2]`, ErrShape, "", `{"ion":"[1,2]"}`},
		{"member not a struct", `{Item:"x"}`, ErrShape, "Item", ``},
		{"annotated member", `{Item:a::{}}`, ErrAnnotation, "Item", ``},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := c.ion + "\n" + `{Item:{after:"ok"}}`
			lines, errs := readAll(t, data)
			require.Len(t, lines, 2, "the item after a bad one is read")
			require.NoError(t, errs[1])
			require.Equal(t, `{"Item":{"after":{"S":"ok"}}}`, lines[1])
			var ie *ItemError
			require.ErrorAs(t, errs[0], &ie)
			require.ErrorIs(t, errs[0], c.err)
			require.Equal(t, 1, ie.Item)
			if c.path == "Item.l.1.M" {
				c.path = "Item.l.1.m.0"
			}
			require.Equal(t, c.path, ie.Path)
			require.True(t, fastjson.Exists([]byte(lines[0])) || fastjson.ValidateBytes([]byte(lines[0])) == nil, "the kept line is JSON")
			require.NoError(t, fastjson.ValidateBytes([]byte(lines[0])), "the kept line is JSON: %s", lines[0])
			if c.json != "" {
				require.Equal(t, c.json, lines[0])
			}
		})
	}
}

func TestReaderBrokenStream(t *testing.T) {
	cases := []struct {
		name, ion string
		items     int // read before the break
		item      int // StreamError.Item
	}{
		{"truncated in an item", `{Item:{a:"x"}} {Item:{b:`, 1, 2},
		{"truncated string", `{Item:{a:"x"}}` + "\n" + `{Item:{a:"unterminated`, 1, 2},
		{"garbage", `{Item:{a:"x"}} {Item:{a:"y"}} }}}`, 2, 3},
		{"binary cut short", string(binaryOf(t, `{"Item":{"a":{"S":"x"}}}`)[:20]), 0, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lines, errs := readAll(t, c.ion)
			require.Len(t, lines, c.items)
			var se *StreamError
			require.ErrorAs(t, errs[len(errs)-1], &se)
			require.ErrorIs(t, se, ErrMalformed)
			require.Equal(t, c.item, se.Item)
			n, err := Count(strings.NewReader(c.ion), 1<<20)
			require.Error(t, err)
			require.LessOrEqual(t, n, int64(c.items+1))
		})
	}
}

func TestReaderBound(t *testing.T) {
	big := `{Item:{a:"` + strings.Repeat("x", 300<<10) + `"}}`
	data := `{Item:{a:"small"}}` + "\n" + big + "\n" + `{Item:{a:"small"}}`
	r := NewReader(strings.NewReader(data), 100<<10)
	line, err := r.Next()
	require.NoError(t, err)
	require.Equal(t, `{"Item":{"a":{"S":"small"}}}`, string(line))
	_, err = r.Next()
	var se *StreamError
	require.ErrorAs(t, err, &se)
	require.ErrorIs(t, err, ErrTooLarge)
	require.Equal(t, 2, se.Item)
	_, again := r.Next()
	require.Equal(t, err, again, "the error sticks")

	// Within the byte bound, a JSON line over it is an item error.
	r = NewReader(strings.NewReader(`{Item:{b:{{`+strings.Repeat("A", 40<<10)+`}}}} {Item:{}}`), 32<<10)
	_, err = r.Next()
	var ie *ItemError
	require.ErrorAs(t, err, &ie)
	require.ErrorIs(t, err, ErrTooLarge)
	line, err = r.Next()
	require.NoError(t, err)
	require.Equal(t, `{"Item":{}}`, string(line))
}

func TestReaderDepth(t *testing.T) {
	deep := strings.Repeat("[", 200) + strings.Repeat("]", 200)
	lines, errs := readAll(t, `{Item:{d:`+deep+`}} {Item:{}}`)
	require.Len(t, lines, 2)
	require.ErrorIs(t, errs[0], flatten.ErrTooDeep)
	require.NoError(t, errs[1])
}

func TestCount(t *testing.T) {
	data := "$ion_1_0 {Item:{a:1.}}\n$ion_1_0 {Item:{a:1e0}}\n\n$ion_1_0 {Item:{a:2.}}\n"
	n, err := Count(strings.NewReader(data), 0)
	require.NoError(t, err)
	require.EqualValues(t, 3, n, "every item counts, bad ones too; version markers do not")
	n, err = Count(bytes.NewReader(binaryOf(t, `{"Item":{"a":{"S":"x"}}}`, `{"Item":{"a":{"S":"y"}}}`)), 0)
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
}

func TestIsIonAndKind(t *testing.T) {
	for _, c := range []struct {
		head string
		ion  bool
		kind Kind
	}{
		{`$ion_1_0 {Item:{a:"x"}}`, true, KindFull},
		{"  \n{Metadata:{WriteTimestampMicros:1},Keys:{}}", true, KindIncremental},
		{`{Keys:{a:"x"}}`, true, KindIncremental},
		{`{'Item':{}}`, true, KindFull},
		{`{"Item":{"a":{"S":"x"}}}`, false, KindFull},
		{`{"Records":[]}`, false, KindUnknown},
		{`[1]`, false, KindUnknown},
		{string(binaryOf(t, `{"Item":{"a":{"S":"x"}}}`)), true, KindFull},
		{`$ion_1_0 {Item:{a:"cut`, true, KindFull},
	} {
		require.Equal(t, c.ion, IsIon([]byte(c.head)), c.head)
		require.Equal(t, c.kind, KindOf([]byte(c.head)), c.head)
	}
}

func TestNumberSpelling(t *testing.T) {
	// Numbers as DynamoDB spells them go to Ion and back unchanged.
	for _, s := range []string{"0", "-0", "1", "-1", "103", "1.5", "1.50", "0.5", "-0.001", "0.000001", "1E-7", "1.5E-7",
		"1E+125", "9.9999999999999999999999999999999999999E+125", "1E-130", "12300", "1.23E+5",
		"12345678901234567890123456789012345678", "0.12345678901234567890123456789012345678"} {
		c, exp, negZero, ok := parseNumber(s)
		require.True(t, ok, s)
		got, _ := appendBigNumber(nil, c, exp, negZero, nil)
		require.Equal(t, s, string(got))
	}
	for _, s := range []string{"", "-", "1e", "1.2.3", "abc", "1E+99999999999"} {
		_, _, _, ok := parseNumber(s)
		require.False(t, ok, s)
	}
}

// binaryOf returns the JSON lines as binary Ion.
func binaryOf(t testing.TB, lines ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewBinaryWriter(&buf)
	for _, l := range lines {
		require.NoError(t, w.WriteLine([]byte(l)))
	}
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func TestWriterRoundTrip(t *testing.T) {
	lines := []string{
		`{"Item":{"pk":{"S":"room-1"},"n":{"N":"1.50"},"big":{"N":"1E+125"},"tiny":{"N":"1E-130"},"nz":{"N":"-0"},"d38":{"N":"12345678901234567890123456789012345678"},"b":{"B":"AAEC/w=="},"t":{"BOOL":true},"f":{"BOOL":false},"z":{"NULL":true},"m":{"M":{"🙂":{"S":"é"},"a.b":{"L":[{"N":"1"},{"M":{}}]}}},"ss":{"SS":["a","b"]},"ns":{"NS":["1","-2.5","3E+10"]},"bs":{"BS":["AA==","AQ=="]}}}`,
		`{"Metadata":{"WriteTimestampMicros":{"N":"1775001600123456"}},"Keys":{"pk":{"S":"a"}},"OldImage":{"pk":{"S":"a"},"v":{"N":"1"}},"NewImage":{"pk":{"S":"a"},"v":{"N":"2"}}}`,
		`{"Metadata":{"WriteTimestampMicros":{"N":"1775001600123456"}},"Keys":{"pk":{"S":"a"}}}`,
	}
	for _, binary := range []bool{false, true} {
		var buf bytes.Buffer
		w := NewTextWriter(&buf)
		if binary {
			w = NewBinaryWriter(&buf)
		}
		for _, l := range lines {
			require.NoError(t, w.WriteLine([]byte(l)))
		}
		require.NoError(t, w.Close())
		if !binary {
			require.True(t, strings.HasPrefix(buf.String(), "$ion_1_0 {Item:{pk:\"room-1\",n:1.50,big:1d125,"), buf.String())
			require.Equal(t, len(lines), strings.Count(buf.String(), "\n"), "one item a line")
		}
		got, errs := readAll(t, buf.String())
		for _, err := range errs {
			require.NoError(t, err)
		}
		require.Equal(t, lines, got, "binary %v", binary)
		n, err := Count(bytes.NewReader(buf.Bytes()), 0)
		require.NoError(t, err)
		require.EqualValues(t, len(lines), n)
	}
}

// FuzzReader checks that no input makes the Reader panic or loop, and
// that every line it returns is valid JSON.
func FuzzReader(f *testing.F) {
	for _, s := range []string{
		`$ion_1_0 {Item:{a:1.5,b:"x",c:$dynamodb_SS::["a"],d:{{AA==}},e:[1,{f:null}]}}`,
		`{Metadata:{WriteTimestampMicros:1},Keys:{k:"v"},NewImage:null}`,
		`{Item:{a:1e0,b:2026T,c:sym,d:(x y),e:null.int,f:x::[1]}}`,
		`{Item:{a:"cut`,
		`{Item:{'\ud800':"\ud83d\ude00\udc00\U00110000",b:$dynamodb_SS::["\\\ud800"]}} // \ud83d`,
	} {
		f.Add([]byte(s))
	}
	f.Add(binaryOf(f, `{"Item":{"a":{"N":"1"},"b":{"BS":["AA=="]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), 1<<20)
		for i := 0; ; i++ {
			require.Less(t, i, len(data)+2, "more items than bytes")
			line, err := r.Next()
			var se *StreamError
			if err == io.EOF || errors.As(err, &se) {
				return
			}
			if line != nil {
				require.NoError(t, fastjson.ValidateBytes(line), "%q", line)
			}
		}
	})
}
