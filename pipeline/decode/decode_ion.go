package decode

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/valyala/fastjson"

	"github.com/ddblake/ddblake/pipeline/ionexport"
)

// exportFormatION is manifest-summary.json's outputFormat of an export
// written in Amazon Ion.
const exportFormatION = "ION"

// decodeIon decodes export data written in Amazon Ion, text or binary:
// each item is turned into the DynamoDB JSON line the same export in
// DYNAMODB_JSON holds (see package ionexport), which is decoded as such a
// line is, so that an item gives the same record in both formats. Index
// is the item's 1-based position (its line, in DynamoDB's one-item-a-line
// text), Raw the JSON line. An item DynamoDB cannot hold (an Ion float,
// timestamp, symbol...) is a RecordError wrapping ErrBadIon, its Raw the
// JSON line with the value in question written {"ion":"<Ion text>"}; Ion
// that cannot be read further is an *InputError naming the item and the
// byte offset, after the items before it.
func (d *Decoder) decodeIon(ctx context.Context, r io.Reader, name string, mode lineMode, fn RecordFunc) error {
	ir := ionexport.NewReader(r, d.opts.MaxRecordBytes)
	seen := 0
	for {
		line, err := ir.Next()
		if err == io.EOF {
			break
		}
		var se *ionexport.StreamError
		if errors.As(err, &se) {
			return inputErr(name, se.Item, -1, se.Offset, ionStreamCause(se)) // the item's line, as Where says
		}
		if err := checkCtx(ctx, ir.Item()); err != nil {
			return err
		}
		seen++
		raw := bytes.Clone(line)
		var rec *ChangeRecord
		var rerr *RecordError
		var ie *ionexport.ItemError
		if errors.As(err, &ie) {
			m := mode
			if m.setAside == nil {
				m.setAside = fmt.Errorf("%w: %w", ErrBadIon, ie.Err)
				if errors.Is(ie, ionexport.ErrTooLarge) {
					m.setAside = fmt.Errorf("%w: %w", ErrLineTooLong, ie.Err)
				}
			}
			_, rerr = d.decodeLine(raw, m) // a RecordError, dated when it can be
			if mode.setAside == nil {
				rerr.Path = ie.Path
			}
		} else {
			rec, rerr = d.decodeLine(raw, mode)
		}
		if len(raw) > keepBufferBytes {
			d.outer = fastjson.Parser{}
		}
		if rerr != nil {
			rerr.Source, rerr.Index, rerr.Raw = name, ir.Item(), raw
		} else {
			rec.Source, rec.Index, rec.Raw = name, ir.Item(), raw
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

// ionStreamCause is the cause of an input error for Ion data that broke:
// ErrBadIon for Ion that cannot be read, else the reader's own error
// (corrupt gzip, a read error) as it is.
func ionStreamCause(se *ionexport.StreamError) error {
	if errors.Is(se, ionexport.ErrMalformed) || errors.Is(se, ionexport.ErrTooLarge) {
		return fmt.Errorf("%w: %v", ErrBadIon, se.Err)
	}
	return se.Err
}

// detectIon is Detect for Ion data: FormatExport or FormatIncremental by
// the members of its first item.
func detectIon(head []byte) (Format, error) {
	switch ionexport.KindOf(head) {
	case ionexport.KindFull:
		return FormatExport, nil
	case ionexport.KindIncremental:
		return FormatIncremental, nil
	}
	return "", fmt.Errorf("%w: Ion data whose first item is neither {Item:...} nor {Metadata:...,Keys:...}", ErrUnknownFormat)
}

// countItems counts the items of an export data file (decompressed):
// its non-blank lines, or for Ion data its top-level values. The error
// wraps ErrBadIon when the Ion cannot be read to its end (the count is
// then of the items before the break).
func (d *Decoder) countItems(ctx context.Context, body io.Reader) (int64, error) {
	br := bufio.NewReaderSize(body, 64<<10)
	head, _ := br.Peek(512)
	if !ionexport.IsIon(head) {
		return countLines(ctx, br)
	}
	n, err := ionexport.Count(ctxReader{ctx: ctx, r: br}, d.opts.MaxRecordBytes)
	var se *ionexport.StreamError
	if errors.As(err, &se) {
		err = ionStreamCause(se)
	}
	return n, err
}

// ctxReader fails its reads once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
