package firehose

import (
	"encoding/base64"
	"math"
	"strconv"
	"time"
	"unsafe"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/schemas"
)

// TimestampLayout is the text form of timestamps in records, in UTC (see
// the package documentation for why it is not epoch milliseconds).
const TimestampLayout = "2006-01-02 15:04:05.000"

// EncodeRow appends row as one Firehose record to dst: a flat JSON object
// of the metadata columns, the row's non-null data columns by their name
// in schema, and dt (plus hr when hourly) from the event time, ended by a
// newline. A map column is a JSON object of its entries (a null value as
// null), which the OpenX JSON SerDe reads into the Glue map<string,V>
// column. Cells are read by column index; cells past the end of
// row.Values are null, and cells past the end of schema.Columns are
// ignored. EncodeRow never fails: a decimal whose text is not a valid JSON
// number is written as a JSON string, and a NaN or infinite double is left
// out.
func EncodeRow(dst []byte, schema *schemas.Schema, row *flatten.Row, hourly bool) []byte {
	dst = append(dst, `{"`+schemas.ColEventName+`":`...)
	dst = flatten.AppendJSONString(dst, row.EventName)
	dst = append(dst, `,"`+schemas.ColEventID+`":`...)
	dst = flatten.AppendJSONString(dst, row.EventID)
	when := time.UnixMilli(row.EventTime).UTC()
	dst = append(dst, `,"`+schemas.ColEventTime+`":"`...)
	dst = appendTime(dst, when)
	dst = append(dst, `","`+schemas.ColSequence+`":`...)
	dst = flatten.AppendJSONString(dst, row.Sequence)
	dst = append(dst, `,"`+schemas.ColTTLDelete+`":`...)
	dst = strconv.AppendBool(dst, row.TTLDelete)
	dst = append(dst, `,"`+schemas.ColExtra+`":`...)
	if len(row.Extra) == 0 {
		dst = append(dst, "null"...)
	} else {
		dst = flatten.AppendJSONString(dst, bytesString(row.Extra))
	}
	if len(row.OldImage) > 0 {
		dst = append(dst, `,"`+schemas.ColOldImage+`":`...)
		dst = flatten.AppendJSONString(dst, bytesString(row.OldImage))
	}
	n := min(len(row.Values), len(schema.Columns))
	for i := 0; i < n; i++ {
		d := &row.Values[i]
		if !d.Valid {
			continue
		}
		col := &schema.Columns[i]
		mark := len(dst)
		dst = append(dst, ',')
		dst = flatten.AppendJSONString(dst, col.Name)
		dst = append(dst, ':')
		var ok bool
		if dst, ok = appendDatum(dst, col.Type, d); !ok {
			dst = dst[:mark]
		}
	}
	dst = append(dst, `,"`+schemas.PartitionDay+`":"`...)
	dst = appendDate(dst, when)
	if hourly {
		dst = append(dst, `","`+schemas.PartitionHour+`":"`...)
		dst = append2(dst, when.Hour())
	}
	return append(dst, "\"}\n"...)
}

// appendDatum appends d as a JSON value of type t. It reports false when
// the value has no JSON form (a NaN or infinite double) and must be left
// out.
func appendDatum(dst []byte, t schemas.Type, d *flatten.Datum) ([]byte, bool) {
	switch t.Kind {
	case schemas.KindString, schemas.KindJSON:
		return flatten.AppendJSONString(dst, d.Str), true
	case schemas.KindBigint:
		return strconv.AppendInt(dst, d.Int, 10), true
	case schemas.KindDecimal:
		if validJSONNumber(d.Str) {
			return append(dst, d.Str...), true
		}
		return flatten.AppendJSONString(dst, d.Str), true
	case schemas.KindDouble:
		if math.IsNaN(d.Float) || math.IsInf(d.Float, 0) {
			return dst, false
		}
		return strconv.AppendFloat(dst, d.Float, 'g', -1, 64), true
	case schemas.KindBoolean:
		return strconv.AppendBool(dst, d.Bool), true
	case schemas.KindBinary:
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, d.Bytes)
		return append(dst, '"'), true
	case schemas.KindTimestamp:
		dst = append(dst, '"')
		dst = appendTimestamp(dst, d.Int)
		return append(dst, '"'), true
	case schemas.KindArray:
		if t.Elem == nil {
			return dst, false
		}
		dst = append(dst, '[')
		for i := range d.List {
			if i > 0 {
				dst = append(dst, ',')
			}
			e := &d.List[i]
			var ok bool
			if e.Valid {
				dst, ok = appendDatum(dst, *t.Elem, e)
			}
			if !ok {
				dst = append(dst, "null"...)
			}
		}
		return append(dst, ']'), true
	case schemas.KindMap:
		if t.Elem == nil {
			return dst, false
		}
		dst = append(dst, '{')
		for i := range d.MapLen() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = flatten.AppendJSONString(dst, d.MapKey(i))
			dst = append(dst, ':')
			var ok bool
			if v := d.MapValue(i); v.Valid {
				dst, ok = appendDatum(dst, *t.Elem, v)
			}
			if !ok {
				dst = append(dst, "null"...)
			}
		}
		return append(dst, '}'), true
	}
	return dst, false
}

// appendTimestamp appends the Unix millisecond time ms in TimestampLayout.
func appendTimestamp(dst []byte, ms int64) []byte {
	return appendTime(dst, time.UnixMilli(ms).UTC())
}

// appendTime appends t (UTC) in TimestampLayout.
func appendTime(dst []byte, t time.Time) []byte {
	dst = appendDate(dst, t)
	hh, mm, ss := t.Clock()
	dst = append(dst, ' ')
	dst = append2(dst, hh)
	dst = append(dst, ':')
	dst = append2(dst, mm)
	dst = append(dst, ':')
	dst = append2(dst, ss)
	frac := t.Nanosecond() / int(time.Millisecond)
	return append(dst, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}

// appendDate appends YYYY-MM-DD of t.
func appendDate(dst []byte, t time.Time) []byte {
	y, m, d := t.Date()
	if y >= 0 && y < 10000 {
		dst = append(dst, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10))
	} else {
		dst = strconv.AppendInt(dst, int64(y), 10)
	}
	dst = append(dst, '-')
	dst = append2(dst, int(m))
	dst = append(dst, '-')
	return append2(dst, d)
}

// append2 appends v (0-99) as two digits.
func append2(dst []byte, v int) []byte {
	return append(dst, byte('0'+v/10), byte('0'+v%10))
}

// validJSONNumber reports whether s is a number in JSON's grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func validJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(s)
}

// bytesString views b as a string without copying; the result must not
// outlive b or be kept (AppendJSONString only reads it).
func bytesString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// Records collects rows encoded as Firehose records in one buffer, for one
// Send. Reset reuses its memory. The zero value is ready to use; a
// Records is not safe for concurrent use.
type Records struct {
	buf  []byte
	refs []recordRef
	out  []Entry
}

type recordRef struct {
	index      int
	table      string
	start, end int
}

// Add encodes row (see EncodeRow) for the table schema.Table, under the
// caller's record index.
func (r *Records) Add(index int, schema *schemas.Schema, row *flatten.Row, hourly bool) {
	start := len(r.buf)
	r.buf = EncodeRow(r.buf, schema, row, hourly)
	r.refs = append(r.refs, recordRef{index: index, table: schema.Table, start: start, end: len(r.buf)})
}

// Len is the number of records added.
func (r *Records) Len() int { return len(r.refs) }

// Size is the total size of the records added, in bytes.
func (r *Records) Size() int { return len(r.buf) }

// Entries returns the records in the order added. The slice and the data
// it points to stay valid until the next Add or Reset.
func (r *Records) Entries() []Entry {
	r.out = r.out[:0]
	for _, ref := range r.refs {
		r.out = append(r.out, Entry{Table: ref.table, Index: ref.index, Data: r.buf[ref.start:ref.end:ref.end]})
	}
	return r.out
}

// Reset empties r, keeping its memory.
func (r *Records) Reset() {
	r.buf = r.buf[:0]
	r.refs = r.refs[:0]
	r.out = r.out[:0]
}
