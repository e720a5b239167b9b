package flatten

import (
	"bytes"
	"fmt"
	"strconv"
)

// CheckEscapes reports whether every backslash escape in the JSON text b
// is one JSON allows and stands for valid UTF-8: \" \\ \/ \b \f \n \r \t,
// or \uXXXX that is not a surrogate, or a high surrogate \uD800-\uDBFF
// followed at once by a low one \uDC00-\uDFFF. The JSON parser keeps a
// lone surrogate (\ud800), an unknown escape (\q) or a short one (\u12)
// as its text and turns a bad surrogate pair into U+FFFD: either way the
// string would be altered, so a record holding one is set aside instead.
//
// b must be text a JSON parser accepted, so that every backslash is
// inside a string. The error wraps ErrBadUTF8 (a surrogate) or ErrBadJSON
// (any other bad escape) and names the escape and its byte offset; the
// cost is one scan for '\' when there is none.
func CheckEscapes(b []byte) error {
	off := 0
	for {
		i := bytes.IndexByte(b[off:], '\\')
		if i < 0 {
			return nil
		}
		i += off
		n, err := escapeLen(b[i:])
		if err != nil {
			return &EscapeError{Offset: i, Text: clipEscape(b[i:]), Err: err}
		}
		off = i + n
	}
}

// EscapeError is a JSON escape that does not stand for valid UTF-8 text.
type EscapeError struct {
	// Offset is the byte offset of the backslash in the text checked.
	Offset int
	// Text is the escape as written (up to 12 bytes).
	Text string
	// Err is ErrBadUTF8 or ErrBadJSON, with why.
	Err error
}

// Error names the escape, where it is and why it is refused.
func (e *EscapeError) Error() string {
	return fmt.Sprintf("JSON escape %s at byte %d: %v", strconv.Quote(e.Text), e.Offset, e.Err)
}

// Unwrap returns the cause.
func (e *EscapeError) Unwrap() error { return e.Err }

func clipEscape(b []byte) string {
	return string(b[:min(len(b), 12)])
}

// escapeLen returns the length of the escape at the start of b (b[0] is
// '\'), or why it is not a valid one.
func escapeLen(b []byte) (int, error) {
	if len(b) < 2 {
		return 0, fmt.Errorf("%w: a lone backslash", ErrBadJSON)
	}
	switch b[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, nil
	case 'u':
	default:
		return 0, fmt.Errorf("%w: unknown escape", ErrBadJSON)
	}
	x, ok := hex4(b[2:])
	if !ok {
		return 0, fmt.Errorf("%w: \\u wants four hex digits", ErrBadJSON)
	}
	switch {
	case x < 0xD800 || x > 0xDFFF:
		return 6, nil
	case x >= 0xDC00:
		return 0, fmt.Errorf("%w: a low surrogate with no high surrogate before it", ErrBadUTF8)
	}
	if len(b) < 12 || b[6] != '\\' || b[7] != 'u' {
		return 0, fmt.Errorf("%w: a high surrogate with no low surrogate after it", ErrBadUTF8)
	}
	y, ok := hex4(b[8:])
	if !ok || y < 0xDC00 || y > 0xDFFF {
		return 0, fmt.Errorf("%w: a high surrogate with no low surrogate after it", ErrBadUTF8)
	}
	return 12, nil
}

// hex4 reads four hex digits.
func hex4(b []byte) (uint32, bool) {
	if len(b) < 4 {
		return 0, false
	}
	return HexDigits(b[:4])
}

// HexDigits reads b, at most 8 hex digits of either case, as a number;
// ok is false when b holds anything else.
func HexDigits(b []byte) (x uint32, ok bool) {
	if len(b) > 8 {
		return 0, false
	}
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		x = x<<4 | uint32(c)
	}
	return x, true
}
