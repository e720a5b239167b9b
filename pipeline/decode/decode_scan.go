package decode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/valyala/fastjson"
)

// docScanner finds the elements of the Records arrays of JSON event
// documents without parsing them, so that each element's exact bytes are
// known. It reads from buf alone (r nil), or from r into chunks (see
// chunks), keeping buf[keep:] across refills so that one element is
// always contiguous.
type docScanner struct {
	r    io.Reader
	buf  []byte
	pos  int
	keep int
	base int64 // input offset of buf[0]
	max  int   // largest element, in bytes
	eof  bool
	rerr error // read error other than io.EOF

	// chunks hands out the memory read from r: bytes once read are never
	// written again, so elements emitted (and the records read from
	// them) keep theirs with no copy.
	chunks *chunkAlloc

	lineOff int // newlines before buf[lineOff] have been counted
	lines   int // newlines before buf[lineOff]

	// read, when set, reads the element that starts at buf[start] and
	// returns the offset after it, or -1 to have it skipped (and emitted
	// for decoding) as any other: the scan then needs no second pass
	// over an element read whole.
	read func(buf []byte, start int) int
}

var errScanTooLarge = errors.New("too large")

// fill reads more input into buf; it reports whether bytes were added.
// room is how much free space it makes sure buf has before reading, as
// far as the element begun (buf[keep:]) may still grow.
func (s *docScanner) fill(room int) bool {
	if s.r == nil || s.eof || s.rerr != nil {
		return false
	}
	rest := len(s.buf) - s.keep
	if rest >= s.max {
		s.rerr = errScanTooLarge
		return false
	}
	room = max(min(room, s.max-rest), 1)
	if cap(s.buf)-len(s.buf) < room {
		// A new chunk, with the element begun moved to its start; the
		// bytes before it stay where they are, in the chunk left behind,
		// for whatever was read from them.
		if s.lineOff < s.keep {
			s.lines += bytes.Count(s.buf[s.lineOff:s.keep], []byte{'\n'})
			s.lineOff = s.keep
		}
		s.buf = s.chunks.next(s.buf[s.keep:], room, s.max)
		s.pos -= s.keep
		s.lineOff -= s.keep
		s.base += int64(s.keep)
		s.keep = 0
	}
	limit := min(cap(s.buf), s.keep+s.max) // an element of max bytes at most
	for {
		n, err := s.r.Read(s.buf[len(s.buf):limit])
		s.buf = s.buf[:len(s.buf)+n]
		if err == io.EOF {
			s.eof = true
		} else if err != nil {
			s.rerr = err
		}
		if n > 0 {
			return true
		}
		if err != nil {
			return false
		}
	}
}

// lineAt returns the 1-based line of buf[i]; i must not decrease between
// calls (within one buffer).
func (s *docScanner) lineAt(i int) int {
	if i > len(s.buf) {
		i = len(s.buf)
	}
	if i > s.lineOff {
		s.lines += bytes.Count(s.buf[s.lineOff:i], []byte{'\n'})
		s.lineOff = i
	}
	return s.lines + 1
}

// skipWS moves past white space; false at the end of the input.
func (s *docScanner) skipWS() bool {
	for {
		for s.pos < len(s.buf) {
			switch s.buf[s.pos] {
			case ' ', '\t', '\n', '\r':
				s.pos++
			default:
				return true
			}
		}
		if !s.fill(1) {
			return false
		}
	}
}

// skipString moves past the string that starts at pos.
func (s *docScanner) skipString() bool {
	i := s.pos + 1
	for {
		j := bytes.IndexByte(s.buf[i:], '"')
		if j < 0 {
			rel := len(s.buf) - s.pos
			if !s.fill(1) {
				s.pos = len(s.buf)
				return false
			}
			i = s.pos + rel
			continue
		}
		i += j
		k := i - 1
		for k > s.pos && s.buf[k] == '\\' {
			k--
		}
		if (i-1-k)%2 == 0 {
			s.pos = i + 1
			return true
		}
		i++
	}
}

// jsonDelim marks the bytes that matter when skipping a nested value.
var jsonDelim = [256]uint8{'"': 1, '{': 2, '[': 2, '}': 3, ']': 3}

// skipValue moves past one JSON value (after white space). It checks
// only the structure needed to find the value's end.
func (s *docScanner) skipValue() error {
	if !s.skipWS() {
		return s.endErr()
	}
	switch c := s.buf[s.pos]; c {
	case '"':
		if !s.skipString() {
			return s.endErr()
		}
		return nil
	case '{', '[':
		return s.skipNested()
	case '}', ']', ',', ':':
		return fmt.Errorf("%w: unexpected %q", ErrBadDocument, c)
	}
	start := s.pos
	for {
		for s.pos < len(s.buf) {
			switch s.buf[s.pos] {
			case ',', '}', ']', ' ', '\t', '\n', '\r', ':', '"', '{', '[':
				if s.pos == start {
					return fmt.Errorf("%w: unexpected %q", ErrBadDocument, s.buf[s.pos])
				}
				return nil
			}
			s.pos++
		}
		if !s.fill(1) {
			if s.rerr != nil {
				return s.endErr()
			}
			return nil
		}
	}
}

func (s *docScanner) skipNested() error {
	depth := 0
	for {
		b, i := s.buf, s.pos
	scan:
		for i < len(b) {
			switch jsonDelim[b[i]] {
			case 0:
				i++
			case 1:
				// A string: find its end here; near the end of the
				// buffer, let skipString refill.
				j := i + 1
				for j < len(b) {
					c := b[j]
					if c == '"' {
						i = j + 1
						continue scan
					}
					if c == '\\' {
						j++
					}
					j++
				}
				s.pos = i
				if !s.skipString() {
					return s.endErr()
				}
				b, i = s.buf, s.pos
			case 2:
				depth++
				i++
			case 3:
				depth--
				i++
				if depth == 0 {
					s.pos = i
					return nil
				}
			}
		}
		s.pos = i
		if !s.fill(1) {
			return s.endErr()
		}
	}
}

// endErr is the error for input that ended inside a value.
func (s *docScanner) endErr() error {
	if s.rerr == errScanTooLarge {
		return fmt.Errorf("%w: one record is larger than %d bytes", ErrRecordTooLarge, s.max)
	}
	if s.rerr != nil {
		return s.rerr
	}
	return fmt.Errorf("%w: the input ends inside a value", ErrTruncated)
}

// expect moves past byte c after white space.
func (s *docScanner) expect(c byte) error {
	if !s.skipWS() {
		return s.endErr()
	}
	if s.buf[s.pos] != c {
		return fmt.Errorf("%w: want %q, found %q", ErrBadDocument, c, s.buf[s.pos])
	}
	s.pos++
	return nil
}

// readElement calls read on the element at pos, when there is a read.
func (s *docScanner) readElement() int {
	if s.read == nil {
		return -1
	}
	if len(s.buf)-s.pos < readAhead {
		// Most records are then whole in the buffer: one cut at its end
		// would be skipped over and read a second time.
		s.fill(readAhead)
	}
	if s.pos >= len(s.buf) {
		return -1
	}
	return s.read(s.buf, s.pos)
}

// readAhead is what a streamed document's buffer holds past a record
// about to be read, when the input has that much left.
const readAhead = 64 << 10

// decodeDocs decodes one or more {"Records":[...]} documents, one after
// another. want is FormatLambda or FormatKinesis to insist on one kind of
// record, FormatAuto to take both. The records' Raw and their images'
// strings are views of s.buf, or of the chunks s reads a stream into,
// which are never written again.
func (d *Decoder) decodeDocs(ctx context.Context, s *docScanner, source string, want Format, fn RecordFunc) error {
	// The records are read where they lie, in the pass of the scan that
	// finds them.
	var (
		read    *ChangeRecord // the element the scanner had read
		readRaw []byte
	)
	if !d.parserOnly {
		s.read = func(buf []byte, start int) int {
			rec, end, ok := d.fastElementAt(buf, start, want)
			if !ok {
				return -1
			}
			read, readRaw = rec, buf[start:end:end]
			return end
		}
	}
	return s.scanDocs(source, func(raw []byte, start, index int) error {
		var rec *ChangeRecord
		var rerr *RecordError
		if read != nil {
			rec, raw, read, readRaw = read, readRaw, nil, nil
		} else {
			raw = raw[:len(raw):len(raw)]
			rec, rerr = d.decodeElement(raw, want)
		}
		if rerr != nil {
			rerr.Source, rerr.Index, rerr.Line, rerr.Raw = source, index, s.lineAt(start), raw
		} else {
			rec.Source, rec.Index, rec.Line, rec.Raw = source, index, s.lineAt(start), raw
		}
		if len(raw) > keepBufferBytes {
			d.outer = fastjson.Parser{} // do not hold a copy of a huge record
		}
		if err := fn(rec, rerr); err != nil {
			return err
		}
		return checkCtx(ctx, index+1)
	})
}

// scanDocs finds the records of one or more {"Records":[...]} documents,
// one after another, and calls emit with each record's bytes (never
// written again), their offset in s.buf and the record's index. It
// returns emit's error as it is, or an *InputError where the input
// cannot be read further.
func (s *docScanner) scanDocs(source string, emit func(raw []byte, start, index int) error) error {
	index, docs := 0, 0
	fail := func(err error) error {
		return inputErr(source, s.lineAt(s.pos), index, s.base+int64(s.pos), err)
	}
	for {
		s.keep = s.pos
		if !s.skipWS() {
			if s.rerr != nil {
				return fail(s.endErr())
			}
			if docs == 0 {
				return inputErr(source, 0, -1, -1, ErrEmpty)
			}
			return nil
		}
		if s.buf[s.pos] != '{' {
			if docs == 0 {
				return fail(fmt.Errorf("%w: want a {\"Records\":[...]} document, found %q", ErrBadDocument, s.buf[s.pos]))
			}
			return fail(fmt.Errorf("%w: unexpected %q after the end of the document", ErrBadDocument, s.buf[s.pos]))
		}
		s.pos++
		found := false
		for first := true; ; first = false {
			if !s.skipWS() {
				return fail(s.endErr())
			}
			if s.buf[s.pos] == '}' {
				s.pos++
				break
			}
			if !first {
				if err := s.expect(','); err != nil {
					return fail(err)
				}
				if !s.skipWS() {
					return fail(s.endErr())
				}
			}
			if s.buf[s.pos] != '"' {
				return fail(fmt.Errorf("%w: want a key, found %q", ErrBadDocument, s.buf[s.pos]))
			}
			ks := s.pos
			if !s.skipString() {
				return fail(s.endErr())
			}
			isRecords := string(s.buf[ks:s.pos]) == `"Records"`
			if err := s.expect(':'); err != nil {
				return fail(err)
			}
			if !isRecords {
				if err := s.skipValue(); err != nil {
					return fail(err)
				}
				s.keep = s.pos
				continue
			}
			found = true
			if err := s.expect('['); err != nil {
				return fail(err)
			}
			for n := 0; ; n++ {
				s.keep = s.pos
				if !s.skipWS() {
					return fail(s.endErr())
				}
				if s.buf[s.pos] == ']' {
					s.pos++
					break
				}
				if n > 0 {
					if err := s.expect(','); err != nil {
						return fail(err)
					}
					if !s.skipWS() {
						return fail(s.endErr())
					}
				}
				s.keep = s.pos
				if end := s.readElement(); end > s.pos {
					s.pos = end
				} else if err := s.skipValue(); err != nil {
					return fail(err)
				}
				if err := emit(s.buf[s.keep:s.pos], s.keep, index); err != nil {
					return err
				}
				index++
			}
		}
		if !found {
			return fail(fmt.Errorf("%w: no \"Records\" array", ErrBadDocument))
		}
		docs++
	}
}
