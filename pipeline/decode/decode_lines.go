package decode

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/pipeline/ionexport"
	"github.com/klauspost/compress/gzip"
	"github.com/valyala/fastjson"
)

// detectBytes is how much of an input's start (decompressed) detect sees
// when the format is auto.
const detectBytes = 1 << 20

// keepBufferBytes bounds the buffers a Decoder keeps for its next input.
const keepBufferBytes = 8 << 20

// lineMode says how to read the lines of a line format.
type lineMode struct {
	format Format // FormatJSONL, FormatExport or FormatIncremental
	table  string // the table of export lines
	// account and region of the table of export lines (from the
	// summary's tableArn); "" when unknown.
	account, region string
	time            int64 // the event time of full-export items
	dated           bool  // time is known (from the manifest or ExportTime)
	// setAside, when set, makes every line a RecordError with this
	// cause, unparsed (a data file that failed its checks).
	setAside error
}

// Decode decodes one input read from r, streaming, calling fn for each
// record in order.
//
// The input is an event document (or several, one after another, Index
// counting on across them) or the lines of a line format, plain or gzip
// (told by its magic bytes); only the record being decoded is held. name
// names the input in records and errors. With FormatAuto the format is
// detected from the first MiB. Raw, and the strings of the images, are
// views of chunks of the input that are never written again: the record
// owns them, sharing the chunk with the records read beside it (a record
// kept keeps its chunk, of up to 1 MiB, from the collector). Export and
// incremental data read this way, without their manifest, take their
// table from Options.Table (else ErrNoTable).
//
// A record that cannot be read goes to fn as a *RecordError and the rest
// go on. An input that cannot be read further (empty, truncated, corrupt
// gzip, a read error) returns an *InputError naming name and the line or
// record where it broke, after the records before the break have been
// passed to fn. An error returned by fn, or ctx's error, is returned as
// it is.
func (d *Decoder) Decode(ctx context.Context, r io.Reader, name string, format Format, fn RecordFunc) error {
	mode := lineMode{table: d.opts.Table}
	if !d.opts.ExportTime.IsZero() {
		mode.time, mode.dated = ExportEventTime(d.opts.ExportTime.UnixMicro()), true
	}
	return d.decodeStream(ctx, r, name, format, mode, fn)
}

func (d *Decoder) decodeStream(ctx context.Context, r io.Reader, name string, format Format, mode lineMode, fn RecordFunc) error {
	return d.decodeBody(ctx, func() (io.Reader, error) { return d.body.open(r) }, name, format, mode, fn)
}

// decodeBody is decodeStream of the data open returns: the input's
// bytes, decompressed (an error of open is the input's).
func (d *Decoder) decodeBody(ctx context.Context, open func() (io.Reader, error), name string, format Format, mode lineMode, fn RecordFunc) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if format == "" {
		format = FormatAuto
	}
	if _, err := ParseFormat(string(format)); err != nil {
		return inputErr(name, 0, -1, -1, err)
	}
	body, err := open()
	if err != nil {
		return inputErr(name, 0, -1, -1, err)
	}
	defer d.body.release()
	defer d.chunks.end()
	if d.head == nil {
		d.head = bufio.NewReaderSize(body, detectBytes)
	} else {
		d.head.Reset(body)
	}
	cr := d.head
	defer cr.Reset(&d.body.src)
	head, herr := cr.Peek(detectBytes)
	if bytes.HasPrefix(head, utf8BOM) {
		_, _ = cr.Discard(len(utf8BOM))
		head = head[len(utf8BOM):]
	}
	if herr != nil && len(bytes.TrimLeft(head, " \t\r\n")) == 0 {
		// Nothing but white space before the end or a read error.
		if herr != io.EOF {
			return inputErr(name, 1+bytes.Count(head, []byte{'\n'}), -1, int64(len(head)), herr)
		}
		return inputErr(name, 0, -1, -1, ErrEmpty)
	}
	want := format // a detected format takes records of both kinds
	if format == FormatAuto {
		if format, err = detectPlain(head); err != nil {
			return inputErr(name, 0, -1, -1, err)
		}
	}
	switch format {
	case FormatLambda, FormatKinesis:
		s := docScanner{r: cr, max: d.opts.MaxRecordBytes, chunks: &d.chunks}
		return d.decodeDocs(ctx, &s, name, want, fn)
	case FormatExport, FormatIncremental:
		if mode.table == "" && mode.setAside == nil {
			return inputErr(name, 0, -1, -1, fmt.Errorf("%w: export data read without its manifest-summary.json; read the export directory, or name the table", ErrNoTable))
		}
		if format == FormatExport && !mode.dated && mode.setAside == nil {
			return inputErr(name, 0, -1, -1, fmt.Errorf("%w: full-export data read without its manifest-summary.json has no time of its own; read the export directory, or give the export time", ErrNoTime))
		}
	}
	mode.format = format
	if ionexport.IsIon(head) {
		return d.decodeIon(ctx, cr, name, mode, fn)
	}
	return d.decodeLines(ctx, cr, name, mode, fn)
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// bodyReader opens inputs, decompressing gzip (told by its magic
// bytes), and keeps its buffers for the next input. Read errors of the
// input are wrapped as such; errors of the gzip data wrap ErrCorruptGzip.
type bodyReader struct {
	src sourceReader
	br  *bufio.Reader
	zr  *gzip.Reader
	gz  gzipBody
}

// open returns r's data, decompressed when r holds gzip data. It is
// valid until the next open.
func (b *bodyReader) open(r io.Reader) (io.Reader, error) {
	b.src = sourceReader{r: r}
	if b.br == nil {
		b.br = bufio.NewReaderSize(&b.src, 64<<10)
	} else {
		b.br.Reset(&b.src)
	}
	magic, _ := b.br.Peek(2)
	if len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		return b.br, nil
	}
	b.gz = gzipBody{src: &b.src}
	var err error
	if b.zr == nil {
		b.zr, err = gzip.NewReader(b.br)
	} else {
		err = b.zr.Reset(b.br)
	}
	if err != nil {
		b.zr = nil
		return nil, b.gz.wrap(err)
	}
	b.gz.zr = b.zr
	return &b.gz, nil
}

// release drops the reference to the last input.
func (b *bodyReader) release() {
	b.src.r = nil
	if b.br != nil {
		b.br.Reset(&b.src)
	}
}

// sourceReader remembers the read error of the underlying input.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	if s.r == nil {
		return 0, io.EOF
	}
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = fmt.Errorf("reading: %w", err)
		return n, s.err
	}
	return n, err
}

// gzipBody is decompressed data; its errors say whether the input could
// not be read or the gzip data is corrupt.
type gzipBody struct {
	zr  *gzip.Reader
	src *sourceReader
}

func (g *gzipBody) Read(p []byte) (int, error) {
	n, err := g.zr.Read(p)
	if err != nil && err != io.EOF {
		err = g.wrap(err)
	}
	return n, err
}

func (g *gzipBody) wrap(err error) error {
	if g.src.err != nil && errors.Is(err, g.src.err) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrCorruptGzip, err)
}

// lineReader reads lines of any length up to max into chunks (see
// chunkAlloc) that are never written again once a line is handed out: a
// line stays valid, and its own, for as long as it is used.
type lineReader struct {
	r      io.Reader
	max    int
	line   int    // 1-based number of the last line returned
	buf    []byte // the chunk read into: buf[start:] is not handed out
	start  int
	scan   int // buf[start:scan] holds no line end
	chunks *chunkAlloc
	eof    bool
	err    error // the read error, once buf[start:] is all that came before it
}

// lineRoom is the free space a lineReader reads into at least: a line cut
// by a chunk's end is moved to the next chunk rather than read in pieces.
const lineRoom = 16 << 10

// next returns the next line without its line end, a view of a chunk
// that is never written again. tooLong reports a line longer than max,
// which is skipped without being kept. At the end it returns io.EOF; a
// read error is returned after the lines before it, counted as the next
// line's.
func (l *lineReader) next() (line []byte, tooLong bool, err error) {
	for {
		if i := bytes.IndexByte(l.buf[l.scan:], '\n'); i >= 0 {
			end := l.scan + i + 1
			line = l.buf[l.start:end]
			l.start, l.scan = end, end
			l.line++
			if len(line) > l.max+2 {
				return nil, true, nil
			}
			line = trimEOL(line)
			return line[:len(line):len(line)], false, nil
		}
		l.scan = len(l.buf)
		rest := len(l.buf) - l.start
		if l.eof || l.err != nil {
			if l.err != nil {
				l.line++
				return nil, false, l.err
			}
			if rest == 0 {
				return nil, false, io.EOF
			}
			line = l.buf[l.start:]
			l.start = len(l.buf)
			l.line++
			if len(line) > l.max+2 {
				return nil, true, nil
			}
			line = trimEOL(line)
			return line[:len(line):len(line)], false, nil
		}
		if rest > l.max+2 {
			l.line++
			return nil, true, l.skipLine()
		}
		l.read(min(lineRoom, l.max+3-rest))
	}
}

// read reads more of the input after buf, with room for n more bytes of
// the line begun, moving it to a new chunk when the current one lacks
// that room. It records the end or a read error.
func (l *lineReader) read(n int) {
	if cap(l.buf)-len(l.buf) < n {
		l.buf = l.chunks.next(l.buf[l.start:], n, l.max+3)
		l.scan -= l.start
		l.start = 0
	}
	limit := min(cap(l.buf), l.start+l.max+3) // enough to tell a line too long
	for {
		k, err := l.r.Read(l.buf[len(l.buf):limit])
		l.buf = l.buf[:len(l.buf)+k]
		if err == io.EOF {
			l.eof = true
		} else if err != nil {
			l.err = err
		}
		if k > 0 || err != nil {
			return
		}
	}
}

// skipLine reads past the end of the line begun, which is too long to
// keep, reading into the free part of the chunk (buf[start:], which no
// line handed out holds); it returns a read error, if any.
func (l *lineReader) skipLine() error {
	for {
		l.buf = l.buf[:l.start]
		if cap(l.buf)-l.start < lineRoom {
			l.buf, l.start = l.chunks.next(nil, lineRoom, lineRoom), 0
		}
		l.scan = l.start
		l.read(1)
		if i := bytes.IndexByte(l.buf[l.start:], '\n'); i >= 0 {
			// What follows the line end is the start of the next line.
			l.buf = l.buf[:l.start+copy(l.buf[l.start:], l.buf[l.start+i+1:])]
			l.scan = l.start
			return nil
		}
		if l.err != nil {
			err := l.err
			l.buf = l.buf[:l.start]
			return err
		}
		if l.eof {
			l.buf, l.scan = l.buf[:l.start], l.start
			return nil
		}
	}
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// decodeLines decodes the lines of a line format; Index is the line.
func (d *Decoder) decodeLines(ctx context.Context, br *bufio.Reader, name string, mode lineMode, fn RecordFunc) error {
	lr := lineReader{r: br, max: d.opts.MaxRecordBytes, chunks: &d.chunks}
	seen := 0
	for {
		line, tooLong, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return inputErr(name, lr.line, -1, -1, err)
		}
		if err := checkCtx(ctx, lr.line); err != nil {
			return err
		}
		if tooLong {
			seen++
			rerr := &RecordError{Source: name, Index: lr.line, Table: mode.table,
				Err: fmt.Errorf("%w: longer than %d bytes", ErrLineTooLong, d.opts.MaxRecordBytes)}
			if err := fn(nil, rerr); err != nil {
				return err
			}
			continue
		}
		if isBlank(line) {
			continue
		}
		seen++
		raw := line // never written again: the record owns it
		rec, rerr := d.decodeLine(raw, mode)
		if len(raw) > keepBufferBytes {
			// The parser keeps a copy of the last input it read: drop it
			// rather than hold a huge line's worth until the next one.
			d.outer = fastjson.Parser{}
		}
		if rerr != nil {
			rerr.Source, rerr.Index, rerr.Raw = name, lr.line, raw
		} else {
			rec.Source, rec.Index, rec.Raw = name, lr.line, raw
		}
		if err := fn(rec, rerr); err != nil {
			return err
		}
	}
	if seen == 0 {
		return inputErr(name, 0, -1, -1, ErrEmpty)
	}
	return nil
}

func (d *Decoder) decodeLine(raw []byte, mode lineMode) (*ChangeRecord, *RecordError) {
	if mode.setAside != nil {
		rerr := &RecordError{Table: mode.table, EventTimeMicros: mode.time, Err: mode.setAside}
		if mode.format == FormatIncremental {
			// Dated by its own time, when it can be read.
			if v, err := d.outer.ParseBytes(raw); err == nil {
				if t, terr := d.incrementalTime(v); terr == nil {
					rerr.EventTimeMicros = t
				}
			}
		}
		return nil, rerr
	}
	d.big = len(raw) > flatten.MaxItemBytes
	switch mode.format {
	case FormatExport:
		return d.decodeItemLine(raw, mode)
	case FormatIncremental:
		return d.decodeIncrementalLine(raw, mode)
	}
	return d.decodeElement(raw, FormatAuto)
}

// decodeItemLine reads a full-export line {"Item":{...}}.
func (d *Decoder) decodeItemLine(raw []byte, mode lineMode) (*ChangeRecord, *RecordError) {
	if !d.parserOnly {
		if rec, ok := d.fastItemLine(raw, mode); ok {
			return rec, nil
		}
	}
	rerr := &RecordError{Table: mode.table, EventTimeMicros: mode.time}
	v, err := d.outer.ParseBytes(raw)
	if err != nil {
		rerr.Err = fmt.Errorf("%w: not valid JSON: %v", ErrBadRecord, err)
		return nil, rerr
	}
	if v.Type() != fastjson.TypeObject || v.Get("Item") == nil {
		rerr.Err = fmt.Errorf("%w: want a line {\"Item\":{...}}", ErrBadRecord)
		return nil, rerr
	}
	if err := d.checkKeys(v, rerr, ""); err != nil {
		rerr.Err = err
		return nil, rerr
	}
	rec := &ChangeRecord{Table: mode.table, Account: mode.account, Region: mode.region, EventName: EventSnapshot, EventTimeMicros: mode.time}
	if _, err := d.parseImage(v, "Item", &rec.NewImage, rerr, ""); err != nil {
		rerr.Err = err
		return nil, rerr
	}
	if rec.NewImage.IsZero() {
		rerr.Path, rerr.Err = "Item", fmt.Errorf("%w: Item is null", ErrBadRecord)
		return nil, rerr
	}
	if err := checkEscapes(raw, rerr, ""); err != nil {
		rerr.Err = err
		return nil, rerr
	}
	return rec, nil
}

// decodeIncrementalLine reads an incremental-export line
// {"Metadata":{"WriteTimestampMicros":...},"Keys":...,"NewImage":...,"OldImage":...}.
func (d *Decoder) decodeIncrementalLine(raw []byte, mode lineMode) (*ChangeRecord, *RecordError) {
	if !d.parserOnly {
		if rec, ok := d.fastIncrementalLine(raw, mode); ok {
			return rec, nil
		}
	}
	rerr := &RecordError{Table: mode.table}
	v, err := d.outer.ParseBytes(raw)
	if err != nil {
		rerr.Err = fmt.Errorf("%w: not valid JSON: %v", ErrBadRecord, err)
		return nil, rerr
	}
	if v.Type() != fastjson.TypeObject {
		rerr.Err = fmt.Errorf("%w: want an object, got %s", ErrBadRecord, v.Type())
		return nil, rerr
	}
	t, terr := d.incrementalTime(v)
	if terr == nil {
		rerr.EventTimeMicros = t
	}
	if err := d.checkKeys(v, rerr, ""); err != nil {
		rerr.Err = err
		return nil, rerr
	}
	if terr != nil {
		rerr.Path, rerr.Err = terr.Path, terr.Err
		return nil, rerr
	}
	rec := &ChangeRecord{Table: mode.table, Account: mode.account, Region: mode.region, EventTimeMicros: t}
	hasOld := false
	for _, im := range [...]struct {
		name string
		dst  *flatten.Item
	}{{"Keys", &rec.Keys}, {"NewImage", &rec.NewImage}, {"OldImage", &rec.OldImage}} {
		if im.dst == &rec.OldImage && d.opts.UnusedOldImages && !rec.NewImage.IsZero() {
			im.dst = nil // checked only
		}
		has, err := d.parseImage(v, im.name, im.dst, rerr, "")
		if err != nil {
			rerr.Err = err
			return nil, rerr
		}
		if im.name == "OldImage" {
			hasOld = has
		}
	}
	if rec.Keys.IsZero() {
		rerr.Path, rerr.Err = "Keys", fmt.Errorf("%w: no Keys", ErrBadRecord)
		return nil, rerr
	}
	switch {
	case !rec.NewImage.IsZero() && !hasOld:
		rec.EventName = EventInsert
	case !rec.NewImage.IsZero():
		rec.EventName = EventModify
	default:
		rec.EventName = EventRemove
	}
	if err := checkEscapes(raw, rerr, ""); err != nil {
		rerr.Err = err
		return nil, rerr
	}
	return rec, nil
}

// incrementalTime reads Metadata.WriteTimestampMicros of an incremental
// export line; the error holds the path and the cause.
func (d *Decoder) incrementalTime(v *fastjson.Value) (int64, *RecordError) {
	meta := v.Get("Metadata")
	if meta == nil || meta.Type() != fastjson.TypeObject {
		return 0, &RecordError{Path: "Metadata", Err: fmt.Errorf("%w: no Metadata object", ErrBadRecord)}
	}
	rerr := &RecordError{}
	if err := d.checkKeys(meta, rerr, "Metadata."); err != nil {
		rerr.Err = err
		return 0, rerr
	}
	ts := meta.Get("WriteTimestampMicros")
	if ts != nil && ts.Type() == fastjson.TypeObject {
		// {"N":"..."}
		ts = ts.Get("N")
		if ts == nil || ts.Type() != fastjson.TypeString {
			return 0, &RecordError{Path: "Metadata.WriteTimestampMicros", Err: fmt.Errorf("%w: want {\"N\":\"...\"}, a string or a number", ErrBadTime)}
		}
	}
	t, err := d.timeMicros(ts, unitMicros)
	if err != nil {
		return 0, &RecordError{Path: "Metadata.WriteTimestampMicros", Err: err}
	}
	return t, nil
}
