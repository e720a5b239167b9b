package ionexport

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/amazon-ion/ion-go/ion"

	"github.com/ddblake/ddblake/flatten"
)

// Set annotations, as DynamoDB writes them on lists.
const (
	annotationSS = "$dynamodb_SS"
	annotationNS = "$dynamodb_NS"
	annotationBS = "$dynamodb_BS"
	// versionMarker is the text Ion version marker, which DynamoDB
	// writes at the start of every line.
	versionMarker = "$ion_1_0"
	// maxDepth bounds the nesting read: deeper than DynamoDB's limit, so
	// that the JSON decoder reports items nested a little too deeply as
	// it does for JSON, and beyond it an ItemError.
	maxDepth = 2 * flatten.MaxDepth
	// readSlack is how far past the bound the Ion library may read ahead
	// (its buffer is 4 KiB) before an item counts as too large.
	readSlack = 64 << 10
)

// Reader reads the items of Ion export data, text or binary (told by its
// version marker), as DynamoDB JSON export lines. It is not safe for
// concurrent use.
type Reader struct {
	src  boundedReader
	esc  *escapeFilter // text Ion only
	ir   ion.Reader
	max  int
	item int
	// inItem is set while an item is being read.
	inItem bool

	line    []byte
	err     error      // sticky: io.EOF or a *StreamError
	bad     *ItemError // the first problem of the item being read
	segs    []string   // the path of the value being read
	scratch []byte
	text    bytes.Buffer
}

// NewReader returns a Reader of the Ion data r holds (decompressed).
// maxItemBytes bounds one item, both the Ion bytes read for it and its
// JSON line (no bound when 0 or less); the Ion library holds one value's
// bytes whole, so the bound is what keeps a hostile file from filling
// memory.
func NewReader(r io.Reader, maxItemBytes int) *Reader {
	x := &Reader{max: maxItemBytes}
	br := bufio.NewReaderSize(r, 64<<10)
	var in io.Reader = br
	if head, _ := br.Peek(len(binaryMarker)); bytes.Equal(head, binaryMarker) {
		in = newBinaryCheck(br, maxItemBytes)
	} else {
		x.esc = newEscapeFilter(br)
		in = x.esc
	}
	x.src = boundedReader{r: in, limit: -1}
	x.ir = ion.NewReader(&x.src)
	return x
}

// Item returns the 1-based position of the last item Next returned.
func (r *Reader) Item() int { return r.item }

// Next returns the next item as a DynamoDB JSON export line, without a
// line end; the line is valid until the next call. For an item that is
// not a DynamoDB export item it returns the line, with the values in
// question written {"ion":"<Ion text>"}, and an *ItemError; for an item
// too large, no line and an *ItemError wrapping ErrTooLarge. At the end
// of the data it returns io.EOF; when the data cannot be read further,
// a *StreamError, and from then on the same error.
func (r *Reader) Next() ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	for {
		r.src.mark(r.max)
		if !r.ir.Next() {
			if err := r.ir.Err(); err != nil {
				r.fail(err)
			} else {
				r.err = io.EOF
			}
			return nil, r.err
		}
		if !r.versionMarker() {
			break
		}
	}
	r.item++
	r.bad = nil
	r.segs = r.segs[:0]
	r.inItem = true
	r.line = r.topLevel(r.line[:0])
	r.inItem = false
	switch {
	case r.err != nil:
		return nil, r.err
	case r.max > 0 && len(r.line) > r.max:
		return nil, &ItemError{Item: r.item, Err: fmt.Errorf("%w: its JSON line is longer than %d bytes", ErrTooLarge, r.max)}
	case r.bad != nil:
		return r.line, r.bad
	}
	return r.line, nil
}

// Count reads Ion export data to its end and returns its number of items
// (top-level values other than version markers and symbol tables): what
// manifest-files.json's itemCount counts. Items that are not DynamoDB
// export items count too. On a *StreamError it returns the items before
// the break. (Every item is read whole: the binary reader skips a value
// cut short by the end of the data without a word.)
func Count(r io.Reader, maxItemBytes int) (int64, error) {
	x := NewReader(r, maxItemBytes)
	for {
		_, err := x.Next()
		var ie *ItemError
		switch {
		case err == io.EOF:
			return int64(x.item), nil
		case err == nil, errors.As(err, &ie):
		default:
			var se *StreamError
			if errors.As(err, &se) {
				return int64(se.Item - 1), err
			}
			return int64(x.item), err
		}
	}
}

// versionMarker reports whether the reader is on a text version marker
// ($ion_1_0 as a top-level symbol), which is not an item.
func (r *Reader) versionMarker() bool {
	if r.ir.Type() != ion.SymbolType || r.ir.IsNull() {
		return false
	}
	if anns, _ := r.ir.Annotations(); len(anns) > 0 {
		return false
	}
	s, err := r.ir.SymbolValue()
	return err == nil && s != nil && s.Text != nil && *s.Text == versionMarker
}

// fail records that the data cannot be read further.
func (r *Reader) fail(err error) {
	if r.err != nil {
		return
	}
	se := &StreamError{Item: r.item + 1, Offset: -1}
	if r.inItem {
		se.Item = r.item // broke inside the item being read
	}
	var ioe *ion.IOError
	switch {
	case errors.As(err, &ioe) && errors.Is(ioe.Err, errBinaryFrame):
		se.Offset = r.src.n
		se.Err = fmt.Errorf("%w: %v", ErrMalformed, ioe.Err)
	case errors.As(err, &ioe) && errors.Is(ioe.Err, errTooLarge):
		se.Offset = r.src.n
		se.Err = fmt.Errorf("%w: more than %d bytes", ErrTooLarge, r.max)
	case errors.As(err, &ioe):
		se.Offset = r.src.n
		se.Err = ioe.Err // the underlying reader's error, as it is
	default:
		se.Offset = errOffset(err)
		se.Err = fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if r.esc != nil {
		se.Offset = r.esc.origOffset(se.Offset)
	}
	r.err = se
}

// errOffset returns the offset the Ion library's error gives, or -1.
func errOffset(err error) int64 {
	var (
		syn *ion.SyntaxError
		eof *ion.UnexpectedEOFError
		ver *ion.UnsupportedVersionError
		tag *ion.InvalidTagByteError
		run *ion.UnexpectedRuneError
		tok *ion.UnexpectedTokenError
	)
	switch {
	case errors.As(err, &syn):
		return int64(syn.Offset)
	case errors.As(err, &eof):
		return int64(eof.Offset)
	case errors.As(err, &ver):
		return int64(ver.Offset)
	case errors.As(err, &tag):
		return int64(tag.Offset)
	case errors.As(err, &run):
		return int64(run.Offset)
	case errors.As(err, &tok):
		return int64(tok.Offset)
	}
	return -1
}

// problem records the first problem of the item, at the current path.
func (r *Reader) problem(sentinel error, format string, args ...any) {
	if r.bad != nil {
		return
	}
	path := ""
	for _, s := range r.segs {
		path = flatten.JoinPath(path, s)
	}
	r.bad = &ItemError{Item: r.item, Path: path, Err: fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))}
}

func (r *Reader) push(seg string) { r.segs = append(r.segs, seg) }
func (r *Reader) pop()            { r.segs = r.segs[:len(r.segs)-1] }

// stepIn steps into the current container; false when the data broke.
func (r *Reader) stepIn() bool {
	if err := r.ir.StepIn(); err != nil {
		r.fail(err)
		return false
	}
	return true
}

// stepOut steps out of the container whose values have been read; false
// when the data broke.
func (r *Reader) stepOut() bool {
	if err := r.ir.Err(); err != nil {
		r.fail(err)
		return false
	}
	if err := r.ir.StepOut(); err != nil {
		r.fail(err)
		return false
	}
	return true
}

// fieldName returns the current value's field name; a name without text
// (a symbol ID no table defines) is a problem, named $<id>.
func (r *Reader) fieldName() string {
	tok, err := r.ir.FieldName()
	if err == nil && tok != nil && tok.Text != nil {
		name := *tok.Text
		if esc, why, ok := r.markedEscape(name); ok {
			name = unmark(name)
			r.push(name)
			r.problem(ErrEscape, "the escape %s in a field name is %s", esc, why)
			r.pop()
		}
		return name
	}
	name := "$?"
	if tok != nil {
		name = "$" + strconv.FormatInt(tok.LocalSID, 10)
	}
	r.push(name)
	r.problem(ErrShape, "a field name without text (%s)", name)
	r.pop()
	return name
}

// annotations returns the current value's annotations as text.
func (r *Reader) annotations() []string {
	toks, err := r.ir.Annotations()
	if len(toks) == 0 && err == nil {
		return nil
	}
	out := make([]string, 0, len(toks)+1)
	for _, t := range toks {
		if t.Text == nil {
			out = append(out, "$"+strconv.FormatInt(t.LocalSID, 10))
		} else {
			out = append(out, *t.Text)
		}
	}
	if err != nil {
		out = append(out, "$?")
	}
	return out
}

// topLevel appends the JSON line of the current top-level value: a
// struct whose members are structs of attributes or null.
func (r *Reader) topLevel(dst []byte) []byte {
	if r.ir.Type() != ion.StructType || r.ir.IsNull() || len(r.annotations()) > 0 {
		r.problem(ErrShape, "want a struct such as {Item:{...}}, got %s", r.describe())
		return r.placeholder(dst)
	}
	if !r.stepIn() {
		return dst
	}
	dst = append(dst, '{')
	first := true
	for r.ir.Next() {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		name := r.fieldName()
		dst = appendString(dst, name)
		dst = append(dst, ':')
		r.push(name)
		switch {
		case len(r.annotations()) > 0:
			r.problem(ErrAnnotation, "%s on a member", strings.Join(r.annotations(), "::"))
			dst = r.placeholder(dst)
		case r.ir.Type() == ion.NullType:
			dst = append(dst, "null"...)
		case r.ir.Type() == ion.StructType && !r.ir.IsNull():
			dst = r.attributes(dst, 1)
		default:
			r.problem(ErrShape, "want a struct of attributes, got %s", r.describe())
			dst = r.placeholder(dst)
		}
		r.pop()
		if r.err != nil {
			return dst
		}
	}
	if !r.stepOut() {
		return dst
	}
	return append(dst, '}')
}

// attributes appends the struct the reader is on as a JSON object of
// attribute values.
func (r *Reader) attributes(dst []byte, depth int) []byte {
	if !r.stepIn() {
		return dst
	}
	dst = append(dst, '{')
	first := true
	for r.ir.Next() {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		name := r.fieldName()
		dst = appendString(dst, name)
		dst = append(dst, ':')
		r.push(name)
		dst = r.value(dst, depth)
		r.pop()
		if r.err != nil {
			return dst
		}
	}
	if !r.stepOut() {
		return dst
	}
	return append(dst, '}')
}

// value appends the attribute value the reader is on.
func (r *Reader) value(dst []byte, depth int) []byte {
	if depth > maxDepth {
		r.problem(flatten.ErrTooDeep, "more than %d levels of Ion", maxDepth)
		return append(dst, `{"ion":"(nested too deeply)"}`...)
	}
	if anns := r.annotations(); len(anns) > 0 {
		if len(anns) == 1 && r.ir.Type() == ion.ListType && !r.ir.IsNull() {
			switch anns[0] {
			case annotationSS:
				return r.set(dst, "SS", ion.StringType)
			case annotationNS:
				return r.set(dst, "NS", ion.DecimalType)
			case annotationBS:
				return r.set(dst, "BS", ion.BlobType)
			}
		}
		r.problem(ErrAnnotation, "%s on %s; DynamoDB writes only $dynamodb_SS, $dynamodb_NS and $dynamodb_BS, on lists", strings.Join(anns, "::"), r.describe())
		return r.placeholder(dst)
	}
	t := r.ir.Type()
	if r.ir.IsNull() {
		if t == ion.NullType {
			return append(dst, `{"NULL":true}`...)
		}
		r.problem(ErrType, "a typed null (null.%s); DynamoDB's NULL is a plain null", t)
		return r.placeholder(dst)
	}
	switch t {
	case ion.BoolType:
		v, err := r.ir.BoolValue()
		if err != nil || v == nil {
			r.fail(err)
			return dst
		}
		if *v {
			return append(dst, `{"BOOL":true}`...)
		}
		return append(dst, `{"BOOL":false}`...)
	case ion.IntType, ion.DecimalType:
		dst = append(dst, `{"N":"`...)
		dst = r.number(dst)
		return append(dst, `"}`...)
	case ion.StringType:
		v, err := r.ir.StringValue()
		if err != nil || v == nil {
			r.fail(err)
			return dst
		}
		if esc, why, ok := r.markedEscape(*v); ok {
			r.problem(ErrEscape, "the escape %s is %s", esc, why)
			return appendIon(dst, ionQuote(*v))
		}
		dst = append(dst, `{"S":`...)
		dst = appendString(dst, *v)
		return append(dst, '}')
	case ion.BlobType:
		v, err := r.ir.ByteValue()
		if err != nil {
			r.fail(err)
			return dst
		}
		dst = append(dst, `{"B":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, v)
		return append(dst, `"}`...)
	case ion.StructType:
		dst = append(dst, `{"M":`...)
		dst = r.attributes(dst, depth+1)
		return append(dst, '}')
	case ion.ListType:
		if !r.stepIn() {
			return dst
		}
		dst = append(dst, `{"L":[`...)
		for i := 0; r.ir.Next(); i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			r.push(strconv.Itoa(i))
			dst = r.value(dst, depth+1)
			r.pop()
			if r.err != nil {
				return dst
			}
		}
		if !r.stepOut() {
			return dst
		}
		return append(dst, "]}"...)
	}
	r.problem(ErrType, "%s; DynamoDB has no such type", r.describe())
	return r.placeholder(dst)
}

// set appends the annotated list the reader is on as the set kind
// (SS, NS, BS), whose elements are of type elem (NS: decimals or ints).
func (r *Reader) set(dst []byte, kind string, elem ion.Type) []byte {
	if !r.stepIn() {
		return dst
	}
	dst = append(dst, `{"`...)
	dst = append(dst, kind...)
	dst = append(dst, `":[`...)
	for i := 0; r.ir.Next(); i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		t := r.ir.Type()
		ok := !r.ir.IsNull() && len(r.annotations()) == 0 &&
			(t == elem || elem == ion.DecimalType && t == ion.IntType)
		if !ok {
			r.push(strconv.Itoa(i))
			r.problem(ErrType, "%s in a %s set", r.describe(), kind)
			dst = r.placeholder(dst)
			r.pop()
			if r.err != nil {
				return dst
			}
			continue
		}
		switch elem {
		case ion.StringType:
			v, err := r.ir.StringValue()
			if err != nil || v == nil {
				r.fail(err)
				return dst
			}
			if esc, why, ok := r.markedEscape(*v); ok {
				r.push(strconv.Itoa(i))
				r.problem(ErrEscape, "the escape %s is %s", esc, why)
				r.pop()
				dst = appendIon(dst, ionQuote(*v))
				continue
			}
			dst = appendString(dst, *v)
		case ion.DecimalType:
			dst = append(dst, '"')
			dst = r.number(dst)
			dst = append(dst, '"')
		default:
			v, err := r.ir.ByteValue()
			if err != nil {
				r.fail(err)
				return dst
			}
			dst = append(dst, '"')
			dst = base64.StdEncoding.AppendEncode(dst, v)
			dst = append(dst, '"')
		}
		if r.err != nil {
			return dst
		}
	}
	if !r.stepOut() {
		return dst
	}
	return append(dst, "]}"...)
}

// number appends the int or decimal the reader is on as DynamoDB spells
// it.
func (r *Reader) number(dst []byte) []byte {
	if r.ir.Type() == ion.IntType {
		if size, err := r.ir.IntSize(); err == nil && size != ion.BigInt {
			v, err := r.ir.Int64Value()
			if err != nil || v == nil {
				r.fail(err)
				return dst
			}
			return strconv.AppendInt(dst, *v, 10)
		}
		v, err := r.ir.BigIntValue()
		if err != nil || v == nil {
			r.fail(err)
			return dst
		}
		return v.Append(dst, 10)
	}
	d, err := r.ir.DecimalValue()
	if err != nil || d == nil {
		r.fail(err)
		return dst
	}
	c, exp := d.CoEx()
	negZero := c.Sign() == 0 && strings.HasPrefix(d.String(), "-")
	dst, r.scratch = appendBigNumber(dst, c, int64(exp), negZero, r.scratch)
	return dst
}

// describe names the current value's type for an error (not its value,
// which may be one a configuration hides).
func (r *Reader) describe() string {
	return "an Ion " + r.ir.Type().String()
}

// placeholder appends {"ion":"<the current value's Ion text>"} for a
// value in question, and moves past it.
func (r *Reader) placeholder(dst []byte) []byte {
	r.text.Reset()
	w := ion.NewTextWriterOpts(&r.text, ion.TextWriterQuietFinish)
	if err := copyValue(r.ir, w, 0); err != nil {
		r.fail(err)
		return dst
	}
	if err := w.Finish(); err != nil {
		r.fail(err)
		return dst
	}
	return appendIon(dst, r.text.String())
}

// appendIon appends {"ion":"<text>"}, the JSON of a value in question.
func appendIon(dst []byte, text string) []byte {
	dst = append(dst, `{"ion":`...)
	dst = appendString(dst, text)
	return append(dst, '}')
}

// markedEscape returns the first escape in s (a string or field name
// just read) that names no Unicode character, as written, and why.
func (r *Reader) markedEscape(s string) (esc, why string, ok bool) {
	if r.esc == nil || r.esc.marks == 0 {
		return "", "", false
	}
	return markedEscape(s)
}

// copyValue writes the value r is on to w, with its annotations, and
// moves r past it. Symbols without text are written $<id>; a container
// nested too deeply, the symbol '...'. An error is the reader's (or, for
// a bug, the writer's).
func copyValue(r ion.Reader, w ion.Writer, depth int) error {
	if toks, _ := r.Annotations(); len(toks) > 0 {
		for _, a := range toks {
			if err := w.Annotation(ion.NewSymbolTokenFromString(tokenText(a))); err != nil {
				return err
			}
		}
	}
	t := r.Type()
	if depth > maxDepth && (t == ion.ListType || t == ion.SexpType || t == ion.StructType) {
		return w.WriteSymbolFromString("...")
	}
	if r.IsNull() {
		return w.WriteNullType(t)
	}
	switch t {
	case ion.BoolType:
		v, err := r.BoolValue()
		if err != nil {
			return err
		}
		return w.WriteBool(*v)
	case ion.IntType:
		v, err := r.BigIntValue()
		if err != nil {
			return err
		}
		return w.WriteBigInt(v)
	case ion.FloatType:
		v, err := r.FloatValue()
		if err != nil {
			return err
		}
		return w.WriteFloat(*v)
	case ion.DecimalType:
		v, err := r.DecimalValue()
		if err != nil {
			return err
		}
		return w.WriteDecimal(v)
	case ion.TimestampType:
		v, err := r.TimestampValue()
		if err != nil {
			return err
		}
		return w.WriteTimestamp(*v)
	case ion.SymbolType:
		v, err := r.SymbolValue()
		if err != nil {
			return err
		}
		return w.WriteSymbolFromString(tokenText(*v))
	case ion.StringType:
		v, err := r.StringValue()
		if err != nil {
			return err
		}
		return w.WriteString(*v)
	case ion.ClobType, ion.BlobType:
		v, err := r.ByteValue()
		if err != nil {
			return err
		}
		if t == ion.ClobType {
			return w.WriteClob(v)
		}
		return w.WriteBlob(v)
	case ion.ListType, ion.SexpType, ion.StructType:
		var begin, end func() error
		switch t {
		case ion.ListType:
			begin, end = w.BeginList, w.EndList
		case ion.SexpType:
			begin, end = w.BeginSexp, w.EndSexp
		default:
			begin, end = w.BeginStruct, w.EndStruct
		}
		if err := r.StepIn(); err != nil {
			return err
		}
		if err := begin(); err != nil {
			return err
		}
		for r.Next() {
			if t == ion.StructType {
				name, _ := r.FieldName()
				text := "$?"
				if name != nil {
					text = tokenText(*name)
				}
				if err := w.FieldName(ion.NewSymbolTokenFromString(text)); err != nil {
					return err
				}
			}
			if err := copyValue(r, w, depth+1); err != nil {
				return err
			}
		}
		if err := r.Err(); err != nil {
			return err
		}
		if err := r.StepOut(); err != nil {
			return err
		}
		return end()
	}
	return w.WriteNull()
}

// tokenText is a symbol's text, or $<id> when it has none.
func tokenText(t ion.SymbolToken) string {
	if t.Text != nil {
		return *t.Text
	}
	return "$" + strconv.FormatInt(t.LocalSID, 10)
}

// appendString appends s as a JSON string: '"', '\' and control
// characters escaped, everything else as it is (invalid UTF-8 included,
// for the decoder to judge as it judges JSON).
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// errTooLarge is the boundedReader's error past its limit.
var errTooLarge = errors.New("item bound exceeded")

// boundedReader counts the bytes read, and fails past a limit set at
// the start of each item.
type boundedReader struct {
	r     io.Reader
	n     int64 // bytes read so far
	limit int64 // fail past this count; -1 for none
}

// mark starts an item: at most max more bytes (and the read-ahead slack)
// may be read for it.
func (b *boundedReader) mark(max int) {
	if max > 0 {
		b.limit = b.n + int64(max) + readSlack
	}
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.limit >= 0 {
		if b.n >= b.limit {
			return 0, errTooLarge
		}
		if room := b.limit - b.n; int64(len(p)) > room {
			p = p[:room]
		}
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	return n, err
}
