package ionexport

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/amazon-ion/ion-go/ion"
	"github.com/valyala/fastjson"
)

// binaryBatch is how many items a binary Writer writes between version
// markers (the library holds a batch in memory until then).
const binaryBatch = 1024

// Writer writes DynamoDB JSON export lines as Ion export data: the same
// items as DynamoDB writes them with export format ION. Numbers keep
// their digits (N "1.50" is the decimal 1.50, "1E+125" is 1d125);
// Metadata's members are written as Ion integers whichever way the JSON
// line spells them. It is for making ION exports from JSON ones (sample
// data, tests); it is not safe for concurrent use.
type Writer struct {
	out    io.Writer
	binary bool
	iw     ion.Writer // binary: the writer of the current batch
	batch  int
	buf    bytes.Buffer
	p      fastjson.Parser
}

// NewTextWriter returns a Writer of text Ion as DynamoDB writes it: one
// line per item, each starting with the version marker $ion_1_0.
func NewTextWriter(w io.Writer) *Writer { return &Writer{out: w} }

// NewBinaryWriter returns a Writer of binary Ion. Call Close to write
// the last items.
func NewBinaryWriter(w io.Writer) *Writer { return &Writer{out: w, binary: true} }

// WriteLine writes the item of one DynamoDB JSON export line ({"Item":...}
// or {"Metadata":...,"Keys":...}). A line that is not valid DynamoDB JSON
// is an error, and nothing of it is written.
func (w *Writer) WriteLine(line []byte) error {
	v, err := w.p.ParseBytes(line)
	if err != nil {
		return fmt.Errorf("not valid JSON: %w", err)
	}
	w.buf.Reset()
	iw := ion.NewBinaryWriter(&w.buf)
	if !w.binary {
		iw = ion.NewTextWriterOpts(&w.buf, ion.TextWriterQuietFinish)
	}
	if err := writeTop(iw, v); err != nil {
		return err
	}
	if !w.binary {
		if err := iw.Finish(); err != nil {
			return err
		}
		if _, err := io.WriteString(w.out, versionMarker+" "); err != nil {
			return err
		}
		w.buf.WriteByte('\n')
		_, err := w.out.Write(w.buf.Bytes())
		return err
	}
	// Binary: the line checked, write it again into the batch.
	if w.iw == nil {
		w.iw = ion.NewBinaryWriter(w.out)
	}
	if err := writeTop(w.iw, v); err != nil {
		return err
	}
	if w.batch++; w.batch == binaryBatch {
		return w.flush()
	}
	return nil
}

// Close writes what a binary Writer holds; it does not close the
// underlying writer.
func (w *Writer) Close() error { return w.flush() }

func (w *Writer) flush() error {
	if w.iw == nil {
		return nil
	}
	err := w.iw.Finish()
	w.iw, w.batch = nil, 0
	return err
}

// writeTop writes a line's top-level object.
func writeTop(w ion.Writer, v *fastjson.Value) error {
	o, err := v.Object()
	if err != nil {
		return fmt.Errorf("want a JSON object, got %s", v.Type())
	}
	if err := w.BeginStruct(); err != nil {
		return err
	}
	o.Visit(func(k []byte, m *fastjson.Value) {
		if err != nil {
			return
		}
		if err = w.FieldName(ion.NewSymbolTokenFromString(string(k))); err != nil {
			return
		}
		switch {
		case m.Type() == fastjson.TypeNull:
			err = w.WriteNull()
		case string(k) == "Metadata":
			err = writeMetadata(w, m)
		default:
			err = writeAttributes(w, m)
		}
		if err != nil {
			err = fmt.Errorf("%s: %w", k, err)
		}
	})
	if err != nil {
		return err
	}
	return w.EndStruct()
}

// writeMetadata writes an incremental export's Metadata, its numbers
// ({"N":"1"}, "1" or 1) as Ion integers.
func writeMetadata(w ion.Writer, v *fastjson.Value) error {
	o, err := v.Object()
	if err != nil {
		return fmt.Errorf("want an object, got %s", v.Type())
	}
	if err := w.BeginStruct(); err != nil {
		return err
	}
	o.Visit(func(k []byte, m *fastjson.Value) {
		if err != nil {
			return
		}
		text := ""
		switch m.Type() {
		case fastjson.TypeObject:
			text = string(m.GetStringBytes("N"))
		case fastjson.TypeString:
			text = string(m.GetStringBytes())
		case fastjson.TypeNumber:
			text = m.String()
		}
		c, exp, _, ok := parseNumber(text)
		if !ok || exp != 0 {
			err = fmt.Errorf("Metadata.%s: want an integer", k)
			return
		}
		if err = w.FieldName(ion.NewSymbolTokenFromString(string(k))); err == nil {
			err = w.WriteBigInt(c)
		}
	})
	if err != nil {
		return err
	}
	return w.EndStruct()
}

// writeAttributes writes a JSON object of attribute values as a struct.
func writeAttributes(w ion.Writer, v *fastjson.Value) error {
	o, err := v.Object()
	if err != nil {
		return fmt.Errorf("want an object of attributes, got %s", v.Type())
	}
	if err := w.BeginStruct(); err != nil {
		return err
	}
	o.Visit(func(k []byte, m *fastjson.Value) {
		if err != nil {
			return
		}
		if err = w.FieldName(ion.NewSymbolTokenFromString(string(k))); err != nil {
			return
		}
		if err = writeValue(w, m); err != nil {
			err = fmt.Errorf("%s: %w", k, err)
		}
	})
	if err != nil {
		return err
	}
	return w.EndStruct()
}

// writeValue writes one attribute value ({"S":"x"}...).
func writeValue(w ion.Writer, v *fastjson.Value) error {
	o, err := v.Object()
	if err != nil || o.Len() != 1 {
		return fmt.Errorf("want an attribute value of one type")
	}
	var kind string
	var x *fastjson.Value
	o.Visit(func(k []byte, m *fastjson.Value) { kind, x = string(k), m })
	switch kind {
	case "S":
		return w.WriteString(string(x.GetStringBytes()))
	case "N":
		return writeNumber(w, x)
	case "B":
		return writeBlob(w, x)
	case "BOOL":
		return w.WriteBool(x.GetBool())
	case "NULL":
		return w.WriteNull()
	case "M":
		return writeAttributes(w, x)
	case "L", "SS", "NS", "BS":
		a, err := x.Array()
		if err != nil {
			return fmt.Errorf("%s: want an array", kind)
		}
		if kind != "L" {
			if err := w.Annotation(ion.NewSymbolTokenFromString("$dynamodb_" + kind)); err != nil {
				return err
			}
		}
		if err := w.BeginList(); err != nil {
			return err
		}
		for i, e := range a {
			switch kind {
			case "L":
				err = writeValue(w, e)
			case "SS":
				err = w.WriteString(string(e.GetStringBytes()))
			case "NS":
				err = writeNumber(w, e)
			default:
				err = writeBlob(w, e)
			}
			if err != nil {
				return fmt.Errorf("%d: %w", i, err)
			}
		}
		return w.EndList()
	}
	return fmt.Errorf("unknown attribute type %q", kind)
}

func writeNumber(w ion.Writer, v *fastjson.Value) error {
	c, exp, negZero, ok := parseNumber(string(v.GetStringBytes()))
	if !ok || exp != int64(int32(exp)) {
		return fmt.Errorf("not a number: %s", v)
	}
	return w.WriteDecimal(ion.NewDecimal(c, int32(exp), negZero))
}

func writeBlob(w ion.Writer, v *fastjson.Value) error {
	b, err := base64.StdEncoding.DecodeString(string(v.GetStringBytes()))
	if err != nil {
		return fmt.Errorf("not base64: %w", err)
	}
	return w.WriteBlob(b)
}
