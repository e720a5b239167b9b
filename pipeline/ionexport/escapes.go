package ionexport

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/ddblake/ddblake/flatten"
)

// escapeMarker stands, in the text the Ion library reads, for the
// backslash of an escape that names no Unicode character. No UTF-8 text
// holds the byte 0xFF, so a string holding the marker is never a valid
// one; the Reader finds it and sets the item aside.
const escapeMarker = 0xFF

// escapeFilterSize is the size of an escapeFilter's buffer.
const escapeFilterSize = 64 << 10

// escapeFilter passes text Ion through to the Ion library, rewriting the
// \u and \U escapes that the library would read as U+FFFD, inventing a
// character:
//   - a UTF-16 surrogate pair written as two escapes (\ud83d\ude00),
//     which Ion's Java library (the one DynamoDB writes with) reads as
//     one character, becomes that character's escape (\U0001f600), two
//     bytes shorter;
//   - an escape that names no Unicode character (a lone surrogate such
//     as \ud800 or \U0000dc00, or a code point past U+10FFFF such as
//     \U00110000) keeps its text, its backslash replaced by
//     escapeMarker.
//
// Everything else passes unchanged. An escape is found by its backslash
// wherever it is: outside strings and symbols a backslash is malformed
// Ion, which the library reports; inside a comment the rewrite is
// skipped with the comment. A backslash pairs with the byte after it
// (\\ is one escape), so \\ud800 is not an escape of U+D800.
type escapeFilter struct {
	r     io.Reader
	buf   []byte
	ready []byte // rewritten bytes not yet handed on (a prefix of buf)
	lo    int    // buf[lo:hi] is input not yet rewritten: an escape
	hi    int    //  cut short by the end of a read
	err   error  // the input's error (io.EOF at its end), once it is met
	out   int64  // bytes made ready before the current ready
	delta int64  // how much shorter the output is than the input so far
	// shifts are where the output gets shorter than the input: from
	// output offset at on, the input is delta bytes further.
	shifts []shift
	// marks counts the escapes marked with escapeMarker.
	marks int
}

// shift is a point past which the output lags the input by delta bytes.
type shift struct {
	at    int64
	delta int64
}

func newEscapeFilter(r io.Reader) *escapeFilter {
	return &escapeFilter{r: r, buf: make([]byte, escapeFilterSize)}
}

func (f *escapeFilter) Read(p []byte) (int, error) {
	for len(f.ready) == 0 {
		if f.err != nil {
			return 0, f.err
		}
		f.fill()
	}
	n := copy(p, f.ready)
	f.ready = f.ready[n:]
	return n, nil
}

// fill reads more input and rewrites it into ready.
func (f *escapeFilter) fill() {
	n := copy(f.buf, f.buf[f.lo:f.hi])
	m, err := f.r.Read(f.buf[n:])
	n += m
	if err != nil {
		f.err = err
	}
	w, i := f.rewrite(f.buf[:n], f.err != nil)
	f.ready = f.buf[:w]
	f.lo, f.hi = i, n
	f.out += int64(w)
}

// rewrite rewrites b in place (the output is never longer than the
// input) and returns the length of the output and how much input it
// took: all of it, unless b ends inside an escape and more may come
// (final is false).
func (f *escapeFilter) rewrite(b []byte, final bool) (w, i int) {
	for i < len(b) {
		j := bytes.IndexByte(b[i:], '\\')
		if j < 0 {
			j = len(b) - i
		}
		if w != i {
			copy(b[w:], b[i:i+j])
		}
		w, i = w+j, i+j
		if i == len(b) {
			break
		}
		n, kind := escapeAt(b[i:], final)
		switch kind {
		case escapeWait:
			return w, i
		case escapePair:
			hi, _ := hex4(b[i+2:])
			lo, _ := hex4(b[i+8:])
			r := 0x10000 + (hi-0xD800)<<10 + (lo - 0xDC00)
			w += copy(b[w:], fmt.Sprintf(`\U%08x`, r))
			i += n
			f.delta += 2
			f.shifts = append(f.shifts, shift{at: f.out + int64(w), delta: f.delta})
			continue
		case escapeBad:
			f.marks++
			b[i] = escapeMarker
		}
		if w != i {
			copy(b[w:], b[i:i+n])
		}
		w, i = w+n, i+n
	}
	return w, i
}

// What escapeAt finds.
const (
	escapeKeep = iota // an escape to pass on as it is
	escapeWait        // cut short: more input is needed to tell
	escapePair        // \uD8xx\uDCxx: a surrogate pair
	escapeBad         // \u or \U naming no Unicode character
)

// escapeAt tells the escape at the start of b (b[0] is '\') and its
// length. Short or malformed escapes are passed on for the Ion library
// to judge.
func escapeAt(b []byte, final bool) (int, int) {
	need := func(n int) bool { return len(b) >= n }
	if !need(2) {
		if final {
			return len(b), escapeKeep
		}
		return 0, escapeWait
	}
	switch b[1] {
	case 'u':
		if !need(6) && !final {
			return 0, escapeWait
		}
		x, ok := hex4(b[2:])
		switch {
		case !ok:
			return 2, escapeKeep
		case x < 0xD800 || x > 0xDFFF:
			return 6, escapeKeep
		case x >= 0xDC00:
			return 6, escapeBad
		}
		if !need(12) && !final {
			return 0, escapeWait
		}
		if need(12) && b[6] == '\\' && b[7] == 'u' {
			if y, ok := hex4(b[8:]); ok && y >= 0xDC00 && y <= 0xDFFF {
				return 12, escapePair
			}
		}
		return 6, escapeBad
	case 'U':
		if !need(10) && !final {
			return 0, escapeWait
		}
		x, ok := hex8(b[2:])
		switch {
		case !ok:
			return 2, escapeKeep
		case x > utf8.MaxRune || x >= 0xD800 && x <= 0xDFFF:
			return 10, escapeBad
		}
		return 10, escapeKeep
	}
	return 2, escapeKeep
}

// origOffset returns the input offset of the byte at output offset off.
func (f *escapeFilter) origOffset(off int64) int64 {
	i := sort.Search(len(f.shifts), func(i int) bool { return f.shifts[i].at > off })
	if i == 0 || off < 0 {
		return off
	}
	return off + f.shifts[i-1].delta
}

// hex4 reads four hex digits.
func hex4(b []byte) (uint32, bool) {
	if len(b) < 4 {
		return 0, false
	}
	return flatten.HexDigits(b[:4])
}

// hex8 reads eight hex digits.
func hex8(b []byte) (uint32, bool) {
	if len(b) < 8 {
		return 0, false
	}
	return flatten.HexDigits(b[:8])
}

// markedEscape returns the first escape in s that the escapeFilter
// marked, as written (\ud800), and why it names no character; ok is
// false when s holds none. (A byte 0xFF that the text held itself,
// followed by such text, reads as a marked escape too: either way the
// string is not UTF-8.)
func markedEscape(s string) (esc, why string, ok bool) {
	for i := strings.IndexByte(s, escapeMarker); i >= 0; {
		rest := s[i+1:]
		var x uint32
		switch {
		case len(rest) >= 5 && rest[0] == 'u':
			x, ok = hex4([]byte(rest[1:5]))
			esc = `\` + rest[:5]
		case len(rest) >= 9 && rest[0] == 'U':
			x, ok = hex8([]byte(rest[1:9]))
			esc = `\` + rest[:9]
		}
		if ok {
			return esc, escapeWhy(esc[1], x), true
		}
		j := strings.IndexByte(rest, escapeMarker)
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return "", "", false
}

// escapeWhy says why the escape \u or \U (kind) of x names no character.
func escapeWhy(kind byte, x uint32) string {
	switch {
	case x > utf8.MaxRune:
		return "past U+10FFFF, the last Unicode code point"
	case kind == 'U':
		return "a UTF-16 surrogate, which is no character"
	case x >= 0xDC00:
		return "a low surrogate with no high surrogate before it"
	}
	return "a high surrogate with no low surrogate after it"
}

// unmark returns s with the backslashes of marked escapes written back.
func unmark(s string) string {
	return strings.ReplaceAll(s, string([]byte{escapeMarker}), `\`)
}

// ionQuote returns s as an Ion string literal, with the escapes the
// escapeFilter marked written back as they were.
func ionQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == escapeMarker:
			b.WriteByte('\\')
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
