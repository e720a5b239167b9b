package flatten

import (
	"encoding/base64"
	"strconv"
	"time"

	"github.com/ddblake/ddblake/schemas"
)

// AppendRowJSON appends row as one JSON object to dst: the metadata
// columns, then every non-null data column by name in schema order.
// Decimals are JSON numbers written from their exact text, binary is
// base64, timestamps are RFC 3339 with milliseconds, maps are JSON
// objects, _extra is embedded as a JSON object, and so is _old_image when
// the row has one. It is the `ddblake flatten` output and the golden
// file format.
func AppendRowJSON(dst []byte, s *schemas.Schema, row *Row) []byte {
	dst = append(dst, `{"_event_name":`...)
	dst = AppendJSONString(dst, row.EventName)
	dst = append(dst, `,"_event_id":`...)
	dst = AppendJSONString(dst, row.EventID)
	dst = append(dst, `,"_event_time":`...)
	dst = appendTime(dst, row.EventTime)
	dst = append(dst, `,"_sequence_number":`...)
	dst = AppendJSONString(dst, row.Sequence)
	dst = append(dst, `,"_ttl_delete":`...)
	dst = strconv.AppendBool(dst, row.TTLDelete)
	for i, d := range row.Values {
		if !d.Valid || i >= len(s.Columns) {
			continue
		}
		c := s.Columns[i]
		dst = append(dst, ',')
		dst = AppendJSONString(dst, c.Name)
		dst = append(dst, ':')
		dst = AppendDatumJSON(dst, c.Type, d)
	}
	if row.Extra != nil {
		dst = append(dst, `,"_extra":`...)
		dst = append(dst, row.Extra...)
	}
	if row.OldImage != nil {
		dst = append(dst, `,"_old_image":`...)
		dst = append(dst, row.OldImage...)
	}
	return append(dst, '}')
}

// AppendDatumJSON appends one cell of type t as JSON (null when not Valid).
func AppendDatumJSON(dst []byte, t schemas.Type, d Datum) []byte {
	if !d.Valid {
		return append(dst, "null"...)
	}
	switch t.Kind {
	case schemas.KindBigint:
		return strconv.AppendInt(dst, d.Int, 10)
	case schemas.KindDecimal:
		return append(dst, d.Str...)
	case schemas.KindDouble:
		return strconv.AppendFloat(dst, d.Float, 'g', -1, 64)
	case schemas.KindBoolean:
		return strconv.AppendBool(dst, d.Bool)
	case schemas.KindBinary:
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, d.Bytes)
		return append(dst, '"')
	case schemas.KindTimestamp:
		return appendTime(dst, d.Int)
	case schemas.KindArray:
		dst = append(dst, '[')
		for i, e := range d.List {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendDatumJSON(dst, *t.Elem, e)
		}
		return append(dst, ']')
	case schemas.KindMap:
		dst = append(dst, '{')
		for i := range d.MapLen() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSONString(dst, d.MapKey(i))
			dst = append(dst, ':')
			dst = AppendDatumJSON(dst, *t.Elem, *d.MapValue(i))
		}
		return append(dst, '}')
	}
	return AppendJSONString(dst, d.Str)
}

func appendTime(dst []byte, ms int64) []byte {
	dst = append(dst, '"')
	dst = time.UnixMilli(ms).UTC().AppendFormat(dst, "2006-01-02T15:04:05.000Z07:00")
	return append(dst, '"')
}
